"""The HTTP contract check: does a running service speak the harness's contract?

One testcase per endpoint and required field (``contract.predict`` / ``probability``,
``contract.version`` / ``artifact_sha256``, ...), so a team can run it against its own
service before it deploys it. The contract is written down in docs/openapi.json.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import httpx

from harness.errors import ConfigError, TargetUnreachable
from harness.gates.context import RunContext
from harness.gates.inputs import Problem
from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties
from harness.gates.result import GateResult, GateSpec
from harness.model.adapters import features
from harness.model.protocols import json_records

if TYPE_CHECKING:
    from harness.gates.state import GateState

_TIMEOUT_S = 10.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


READS_DATA = False
CALLS_MODEL = False


def problems(context: RunContext) -> list[Problem]:
    """Nothing of its own: the datasets are checked for every check that reads them."""
    return []


class _Answer:
    """One request to the service, made once and shared by that endpoint's testcases."""

    def __init__(self, send: Callable[[httpx.Client], httpx.Response], url: str) -> None:
        self._send = send
        self._url = url
        self._response: httpx.Response | None = None

    def __call__(self) -> httpx.Response:
        if self._response is None:
            try:
                with httpx.Client(base_url=self._url, timeout=_TIMEOUT_S) as client:
                    self._response = self._send(client)
            except httpx.HTTPError as exc:
                raise TargetUnreachable(f"{self._url} did not answer ({exc}); is the service "
                                   "running at that URL?") from None
        return self._response


def _status(answer: _Answer, where: str, expected: int = 200) -> GateResult:
    response = answer()
    ok = response.status_code == expected
    return GateResult(Outcome.of(ok), f"{where} answered {response.status_code}"
                      + ("" if ok else f", expected {expected}: {response.text[:200]}"),
                      GateProperties(status=str(response.status_code)))


def _field(answer: _Answer, where: str, path: str,
           valid: Callable[[Any], bool], expected: str) -> GateResult:
    """The JSON field ``path`` (``a``, ``a[].b``) of the answer is present and valid."""
    response = answer()
    try:
        body: Any = response.json()
    except ValueError:
        return GateResult(Outcome.FAILED,
                          f"{where} did not answer JSON (status {response.status_code})")
    head, _, rest = path.partition("[].")
    values = [body.get(head)] if isinstance(body, dict) else [None]
    if rest:
        items = values[0] if isinstance(values[0], list) else [None]
        values = [item.get(rest) if isinstance(item, dict) else None for item in items]
    bad = [v for v in values if not valid(v)]
    if bad:
        return GateResult(Outcome.FAILED, f"{where}: '{path}' must be {expected}; got {bad[0]!r}")
    return GateResult(Outcome.PASSED, f"{where}: '{path}' is {expected}")


def _probability(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def gates(state: GateState) -> Iterator[GateSpec]:
    config = state.config
    url = (state.target_url or config.model.url or "").rstrip("/")
    if not url:
        raise ConfigError(f"{config.source}: the contract check needs the service's URL: set "
                          "'model.url', give the profile an 'environment', or pass --target-url")
    if not config.golden:
        raise ConfigError(f"{config.source}: the contract check sends golden rows; list a "
                          "golden dataset under 'golden'")
    dataset = config.golden[0].name

    def records(count: int) -> list[dict[str, Any]]:
        frame = features(state.dataset(dataset).frame.head(count), config.model)
        return json_records(frame)

    answers = {
        "health": _Answer(lambda c: c.get("/health"), url),
        "ready": _Answer(lambda c: c.get("/ready"), url),
        "version": _Answer(lambda c: c.get("/version"), url),
        "metrics": _Answer(lambda c: c.get("/metrics"), url),
        "predict": _Answer(lambda c: c.post("/predict", json=records(1)[0]), url),
        "predict_batch": _Answer(lambda c: c.post("/predict/batch",
                                                  json={"records": records(3)}), url),
    }
    paths = {"health": "GET /health", "ready": "GET /ready", "version": "GET /version",
             "metrics": "GET /metrics", "predict": "POST /predict",
             "predict_batch": "POST /predict/batch"}
    for name, answer in answers.items():
        where = f"{url} {paths[name]}"
        yield GateSpec("contract", name, "status", answer,
                       lambda a=answer, w=where: _status(a, w))
    fields: list[tuple[str, str, Callable[[Any], bool], str]] = [
        ("version", "artifact_sha256", lambda v: isinstance(v, str) and bool(_SHA256.match(v)),
         "the artifact's sha256 digest (64 hex digits)"),
        ("version", "name", lambda v: isinstance(v, str) and bool(v), "a non-empty string"),
        ("predict", "probability", _probability, "a probability in [0, 1]"),
        ("predict_batch", "predictions[].probability", _probability,
         "a probability in [0, 1] for every record"),
    ]
    for name, path, valid, expected in fields:
        where = f"{url} {paths[name]}"
        # "[]" would read as a pytest parameter in the testcase's name.
        yield GateSpec("contract", name, path.replace("[]", ""), answers[name],
                       lambda a=answers[name], w=where, p=path, v=valid, e=expected:
                       _field(a, w, p, v, e))
    count = answers["predict_batch"]
    yield GateSpec("contract", "predict_batch", "predictions.count", count,
                   lambda: _field(count, f"{url} POST /predict/batch", "predictions",
                                  lambda v: isinstance(v, list) and len(v) == 3,
                                  "a list with one prediction per record (3)"))
