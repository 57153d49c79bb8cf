"""The prediction log: what the server answered, request by request, for a shadow release
to join with another server's answers to the same requests.

Each answer to ``POST /predict`` and ``POST /predict/batch`` is one record per scored row:
the request id (``X-Request-ID`` from the caller or the router in front, else one made
here and sent back), the sha256 of the request body, the answer (score and label, or
value), the latency, the part of it spent waiting for a CPU, and the status. A failed
request is one record without an answer.
The input itself is never kept. Records sit in a bounded ring in memory (``max_records``,
none older than ``max_age_s``), numbered in order, and ``GET /predictions/log?since=N``
returns those after number ``N``. docs/model-contract.md specifies it for a team's server.

It is plain ASGI middleware, like ``RequestMetrics``: it reads the body as it streams in
and the answer as it streams out, so the endpoints do not change.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Query, Response
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from harness.config.server import PredictionLogSpec
from harness.server import cpu_wait

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
LOGGED_PATHS = frozenset({"/predict", "/predict/batch"})
# A request id is the caller's text: clipped, so a huge header cannot grow the log.
MAX_ID_CHARS = 128
PAGE_LIMIT = 10_000


class LoggedPrediction(BaseModel):
    """One scored row (or one failed request) as the log keeps it."""

    seq: int
    request_id: str
    index: int = 0  # the row's place in a batch
    at: float  # Unix time the answer was sent
    endpoint: str
    status: int
    latency_ms: float
    # Of the latency, the time the serving thread was runnable but waited for a CPU (None
    # where the platform does not say): the host's share, not the server's.
    cpu_wait_ms: float | None = None
    input_sha256: str
    probability: float | None = None
    probabilities: list[float] | None = None
    value: float | None = None
    label: str | None = None


class PredictionLogPage(BaseModel):
    """Records after ``since``, oldest first; ``next`` is the ``since`` of the next read.
    ``first_seq`` is the oldest number still kept: a reader whose ``since`` is below
    ``first_seq - 1`` lost records to the bounds. ``last_seq`` is the newest number given
    (0 before any), where a reader that wants only what comes later starts."""

    records: list[LoggedPrediction]
    next: int
    first_seq: int
    last_seq: int
    max_records: int
    max_age_s: float


@dataclass(slots=True)
class _Entry:
    seq: int
    request_id: str
    index: int
    at: float
    endpoint: str
    status: int
    latency_ms: float
    cpu_wait_ms: float | None
    input_sha256: str
    answer: dict[str, Any] | None


class PredictionLog:
    """The bounded ring. Appended and read on the server's event loop only, so no lock."""

    def __init__(self, max_records: int, max_age_s: float) -> None:
        self.max_records, self.max_age_s = max_records, max_age_s
        self._entries: deque[_Entry] = deque(maxlen=max_records or 1)
        self._seq = 0

    @property
    def enabled(self) -> bool:
        return self.max_records > 0

    def add(self, request_id: str, endpoint: str, status: int, latency_ms: float,
            input_sha256: str, answers: list[dict[str, Any]] | None,
            cpu_wait_ms: float | None = None) -> None:
        now = time.time()
        self._expire(now)
        for index, answer in enumerate(answers or [None]):  # type: ignore[list-item]
            self._seq += 1
            self._entries.append(_Entry(self._seq, request_id, index, now, endpoint, status,
                                        latency_ms, cpu_wait_ms, input_sha256, answer))

    def page(self, since: int, limit: int) -> PredictionLogPage:
        self._expire(time.time())
        first = self._entries[0].seq if self._entries else self._seq + 1
        # Numbers are consecutive, so the first record after `since` is found by offset.
        start = max(0, since + 1 - first)
        chosen = [self._entries[i] for i in range(start, min(len(self._entries),
                                                             start + limit))]
        records = [LoggedPrediction(seq=e.seq, request_id=e.request_id, index=e.index,
                                    at=e.at, endpoint=e.endpoint, status=e.status,
                                    latency_ms=e.latency_ms, cpu_wait_ms=e.cpu_wait_ms,
                                    input_sha256=e.input_sha256,
                                    **(e.answer or {}))
                   for e in chosen]
        return PredictionLogPage(records=records,
                                 next=records[-1].seq if records else max(since, first - 1),
                                 first_seq=first, last_seq=self._seq,
                                 max_records=self.max_records,
                                 max_age_s=self.max_age_s)

    def _expire(self, now: float) -> None:
        oldest = now - self.max_age_s
        while self._entries and self._entries[0].at < oldest:
            self._entries.popleft()


_ANSWER_FIELDS = ("probability", "probabilities", "value", "label")


def _answers(endpoint: str, body: bytes) -> list[dict[str, Any]] | None:
    """The answer's prediction fields, one dict per row."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    rows = document.get("predictions", []) if endpoint == "/predict/batch" else [document]
    return [{k: row[k] for k in _ANSWER_FIELDS if k in row} for row in rows]


class PredictionLogging:
    """ASGI middleware that logs every answer of the predict endpoints into ``log`` and
    gives every answer its request id."""

    def __init__(self, app: ASGIApp, log: PredictionLog) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in LOGGED_PATHS or not self.log.enabled:
            await self.app(scope, receive, send)
            return
        started, waited = time.perf_counter(), cpu_wait.waited_ms()
        tally = cpu_wait.Tally()
        cpu_wait.current.set(tally)
        request_id = next((value.decode("latin-1")[:MAX_ID_CHARS]
                           for name, value in scope["headers"] if name == _REQUEST_ID), "")
        if not request_id:
            request_id = uuid.uuid4().hex
        digest = hashlib.sha256()
        status, body = 500, bytearray()

        async def hashing_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                digest.update(message.get("body", b""))
            return message

        async def capturing_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()),
                                      (_REQUEST_ID, request_id.encode("latin-1"))]
            elif message["type"] == "http.response.body" and status == 200:
                body.extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, hashing_receive, capturing_send)
        finally:
            latency_ms = (time.perf_counter() - started) * 1000
            now_waited = cpu_wait.waited_ms()
            cpu_wait_ms = (tally.ms if tally.counted
                           else None if waited is None or now_waited is None
                           else max(0.0, now_waited - waited))
            answers = _answers(scope["path"], bytes(body)) if status == 200 else None
            self.log.add(request_id, scope["path"], status, latency_ms, digest.hexdigest(),
                         answers, cpu_wait_ms)


def add_prediction_log(app: FastAPI, spec: PredictionLogSpec) -> PredictionLog:
    """Log ``app``'s answers as ``spec`` bounds them, and serve the log at
    ``GET /predictions/log``. A refused request (400, 413, 415, 422, 503) is logged too, with
    its status and no answer: a shadow's refusals are its errors."""
    log = PredictionLog(spec.max_records, spec.max_age_s)
    app.add_middleware(PredictionLogging, log=log)

    @app.get("/predictions/log", response_model=PredictionLogPage)
    async def prediction_log(since: int = Query(0, ge=0),
                             limit: int = Query(1000, ge=1, le=PAGE_LIMIT)) -> Response:
        page = log.page(since, limit)
        return Response(page.model_dump_json(exclude_none=True),
                        media_type="application/json")

    app.state.prediction_log = log
    return log
