"""The generic model server: serves any entry-point model over the harness's HTTP contract.

``harness serve`` runs it; the ``local`` deploy target runs it by default, so a team
with no service of its own deploys with no code. The contract (``docs/openapi.json``):

- ``POST /predict`` one record -> ``{"probability", "label", "model_version"}`` (a
  multiclass model: ``"probabilities"`` in class order and ``"label"``; a regression:
  ``"value"``)
- ``POST /predict/batch`` ``{"records": [...]}`` -> ``{"predictions": [...], "model_version"}``
- ``GET /health`` live; ``GET /ready`` 200 once the model is loaded, else 503 with the reason
- ``GET /version`` ``{"name", "version", "artifact_sha256", "model_reference"}``: the artifact
  digest it serves, and the OCI reference it was pulled from when it was deployed by digest
- ``GET /metrics`` Prometheus text

Records are validated against the config's schema. Error bodies name the field and
never echo the input, so a huge or non-finite value cannot make them fail or grow (a field
name a client made up is clipped). A body that is not JSON at all, or is empty, is a 400;
JSON that breaks the schema is a 422.
"""


import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from harness.candidate.artifact import artifact_digest
from harness.config import HarnessConfig
from harness.model.adapters import PythonModel
from harness.server import cpu_wait
from harness.server.batching import Batcher
from harness.server.faults import FaultInjection
from harness.server.frames import records_frame
from harness.server.heap import freeze_long_lived
from harness.server.limits import BodyLimit
from harness.server.metrics import RequestMetrics, ServerMetrics
from harness.server.placement import ScoringPlace
from harness.server.prediction_log import add_prediction_log
from harness.server.predictions import Prediction, predictions
from harness.server.records import MAX_BATCH, batch_model, record_model
from harness.text import clip

log = logging.getLogger("harness.server")
DEFAULT_MAX_BODY_BYTES = 1 << 20


class PredictResponse(Prediction):
    model_version: str


class BatchResponse(BaseModel):
    predictions: list[Prediction]
    model_version: str


class VersionResponse(BaseModel):
    name: str
    version: str
    artifact_sha256: str
    model_reference: str | None = None


class ErrorResponse(BaseModel):
    detail: str


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document the refusals an endpoint can answer, so the OpenAPI document is the whole
    contract (the property-based test holds the server to it)."""
    meaning = {400: "The body is empty or not valid JSON", 413: "The body is larger than the limit",
               415: "The body is not application/json", 503: "The model is not loaded"}
    return {status: {"model": ErrorResponse, "description": meaning[status]}
            for status in statuses}


_POST_ERRORS = _errors(400, 413, 415, 503)


@dataclass
class _Loaded:
    model: PythonModel
    digest: str


class _State:
    """The model once loaded (or why it is not), and what the endpoints share."""

    def __init__(self, config: HarnessConfig, artifact: Path | None) -> None:
        self.config = config
        self.artifact = artifact
        self.loaded: _Loaded | None = None
        self.load_error: str | None = None

    def load(self) -> None:
        try:
            # The digest is taken before loading: what is served is what was measured.
            digest = artifact_digest(self.artifact) if self.artifact is not None else ""
            self.loaded = _Loaded(PythonModel.open(self.config.model, self.config,
                                                   self.artifact), digest)
        except Exception as error:  # noqa: BLE001 - any load failure means "not ready"
            self.load_error = f"{type(error).__name__}: {error}"
            log.error("not ready: cannot load the model: %s", self.load_error)
        else:
            log.info("serving %s, artifact %s (sha256 %s)", self.config.model.name,
                     self.artifact, self.loaded.digest)

    def require(self) -> _Loaded:
        if self.loaded is None:
            raise HTTPException(503, f"model not loaded: {self.load_error or 'starting'}")
        return self.loaded


def _json(answer: BaseModel) -> Response:
    return Response(answer.model_dump_json(exclude_none=True), media_type="application/json")


def _errors_without_input(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The location may hold a client's own text (an unknown field's name): clipped.
    return [{"loc": [clip(part) if isinstance(part, str) else part for part in e.get("loc", ())],
             "msg": clip(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors()[:20]]


def _malformed(exc: RequestValidationError, request: Request) -> str | None:
    """Why the body is not a JSON document at all (a 400, not a 422), if it is not."""
    errors = exc.errors()
    invalid = next((e for e in errors if e.get("type") == "json_invalid"), None)
    if invalid is not None:
        reason = clip((invalid.get("ctx") or {}).get("error", "JSON decode error"))
        return f"the body is not valid JSON ({reason}); send one JSON object"
    # FastAPI reads an empty body as no body at all; a literal `null` has a length.
    empty = request.headers.get("content-length") in (None, "0")
    if empty and [(tuple(e.get("loc", ())), e.get("type")) for e in errors] == [
            (("body",), "missing")]:
        return "the body is empty; send one JSON object"
    return None


def create_app(config: HarnessConfig, artifact: Path | None = None,
               faults: FaultInjection | None = None,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               model_reference: str | None = None, freeze_heap: bool = False) -> FastAPI:
    """The server for ``config``'s model, loaded from ``artifact`` (default:
    ``model.artifact``) when the app starts; ``model_reference`` is the OCI reference the
    artifact was pulled from, reported at ``/version``. ``freeze_heap``: once the model is
    loaded, exempt what the process holds from garbage collection (heap.py), for a
    process that serves this app alone."""
    if artifact is None and config.model.artifact is not None:
        artifact = config.resolve(config.model.artifact)
    state = _State(config, artifact)
    faults = faults if faults is not None else FaultInjection.from_env()
    metrics = ServerMetrics()
    # Per endpoint: a record costs less in a batch than alone.
    single, batched = ScoringPlace("/predict"), ScoringPlace("/predict/batch")
    Record = record_model(config)
    Batch = batch_model(Record)
    rules = {name: config.data_schema.columns[name] for name in Record.model_fields}
    spec = config.model

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.load()
        if freeze_heap:
            freeze_long_lived()
        yield

    app = FastAPI(title=f"{spec.name} (harness model server)", lifespan=lifespan,
                  version="1")
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    add_prediction_log(app, config.server.prediction_log)
    # Added last, so outermost: it times and counts the 413s and 415s too.
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        malformed = _malformed(exc, request)
        if malformed is not None:
            return JSONResponse({"detail": malformed}, status_code=400)
        return JSONResponse({"detail": _errors_without_input(exc)}, status_code=422)

    # The probes are async, answered on the event loop: as plain functions they would wait
    # in a worker thread for the GIL behind the loop's scoring (40 ms p50 under load).
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/ready", responses={503: {"description": "The model is not loaded (yet)"}})
    async def ready() -> JSONResponse:
        if state.loaded is None:
            return JSONResponse({"status": "not ready",
                                 "reason": state.load_error or "starting"}, 503)
        return JSONResponse({"status": "ready"})

    @app.get("/version", response_model=VersionResponse, responses=_errors(503))
    async def version() -> VersionResponse:
        loaded = state.require()
        return VersionResponse(name=spec.name, version=loaded.digest[:12],
                               artifact_sha256=loaded.digest, model_reference=model_reference)

    @app.get("/metrics", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {}},
                              "description": "Prometheus text exposition"}})
    async def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    def score_here(records: list[BaseModel], place: ScoringPlace) -> list[Prediction]:
        loaded = state.require()
        started = time.perf_counter()
        scored = predictions(loaded.model, records_frame(records, rules),
                             faults.jittered if faults.score_jitter else None)
        place.add(time.perf_counter() - started, len(records))
        metrics.count_predictions(place.name, scored)
        return scored

    async def score(records: list[BaseModel], place: ScoringPlace) -> list[Prediction]:
        if place.inline(len(records)):
            return score_here(records, place)
        return await run_in_threadpool(cpu_wait.counting(score_here), records, place)

    # The records of concurrent single-record requests, scored together (batching.py).
    together: Batcher[BaseModel, Prediction] = Batcher(lambda rs: score(rs, single),
                                                        MAX_BATCH)

    async def admit() -> _Loaded:
        """The loaded model, after the injected faults of one request (each request's
        own: injected latency stands for a slow service, not a busy one, and sleeps in a
        thread)."""
        loaded = state.require()
        if faults.latency_ms:
            # Counted (cpu_wait): the request's own wait is then its threads', not the
            # loop's, which serves other requests while this one sleeps.
            await run_in_threadpool(cpu_wait.counting(faults.apply))
        else:
            faults.apply()
        return loaded

    # Fields that do not apply to the model's kind are left out, not sent as null. The
    # endpoints return the encoded JSON themselves: FastAPI would validate the answer
    # again against the same model before encoding it.
    @app.post("/predict", response_model=PredictResponse, responses=_POST_ERRORS,
              response_model_exclude_none=True)
    async def predict(record: Record) -> Response:  # type: ignore[valid-type]
        loaded = await admit()
        prediction = await together.score(record)
        answer = PredictResponse(**prediction.model_dump(exclude_none=True),
                                 model_version=loaded.digest[:12])
        return _json(answer)

    @app.post("/predict/batch", response_model=BatchResponse, responses=_POST_ERRORS,
              response_model_exclude_none=True)
    async def predict_batch(request: Batch) -> Response:  # type: ignore[valid-type]
        loaded = await admit()
        answers = await score(request.records, batched)  # type: ignore[attr-defined]
        return _json(BatchResponse(predictions=answers, model_version=loaded.digest[:12]))

    app.state.harness = state
    app.state.scoring_places = {"single": single, "batch": batched}
    return app
