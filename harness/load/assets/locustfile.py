"""The generic load scenario, run by Locust in its own processes, in any of the protocols
the harness speaks (its own, the Open Inference Protocol v2, mlflow's ``/invocations``).

The harness writes the scenario (task weights, request bodies built from golden rows in
the service's protocol, paths, bounds) to a JSON file and names it in
``$HARNESS_LOAD_SCENARIO``; this file only replays the requests and counts the answers. Locust imports
gevent and monkey-patches on import, so nothing in the harness ever imports this file.

Bounds: the master's shape stops the run at ``run_time_s`` or once ``max_requests``
requests were reported; each worker also stops its users at its share of
``max_requests``, so the bound holds even between two stats reports.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from typing import Any, ClassVar

import locust.runners
from locust import FastHttpUser, LoadTestShape, constant, events
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

SCENARIO_ENV = "HARNESS_LOAD_SCENARIO"

# Workers report every 3 s by default; a shorter interval lets the master see the
# request bound sooner and lose less of a short run's tail.
locust.runners.WORKER_REPORT_INTERVAL = 0.5


def _scenario() -> dict[str, Any]:
    path = os.environ.get(SCENARIO_ENV)
    if not path:
        raise RuntimeError(f"${SCENARIO_ENV} is not set: run this scenario through the harness")
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _answered_rows(protocol: str, body: dict[str, Any], single: bool) -> int | None:
    """How many rows an answer scores, in the protocol's shape (None: not that shape)."""
    if protocol == "harness" and single:
        fields = {"probability", "probabilities", "value"}
        return 1 if fields & set(body) else None
    if protocol == "open-inference-v2":
        outputs = body.get("outputs")
        try:
            return int(outputs[0]["shape"][0])
        except (TypeError, KeyError, IndexError, ValueError):
            return None
    predictions = body.get("predictions")
    return len(predictions) if isinstance(predictions, list) else None


class _Budget:
    """Requests this process may still send: its share of the run's ``max_requests``."""

    def __init__(self) -> None:
        self.limit = math.inf
        self.sent = 0

    def count(self, **_: Any) -> None:
        self.sent += 1

    @property
    def spent(self) -> bool:
        return self.sent >= self.limit


BUDGET = _Budget()
SCENARIO: dict[str, Any] = {}


@events.init.add_listener
def _configure(environment: Any, **_: Any) -> None:
    SCENARIO.update(_scenario())
    ScoringUser.tasks = {
        ScoringUser.predict: SCENARIO["weights"]["predict"],
        ScoringUser.predict_batch: SCENARIO["weights"]["predict_batch"],
        ScoringUser.health: SCENARIO["weights"]["health"],
    }
    ScoringUser.tasks = [t for t, weight in ScoringUser.tasks.items() for _ in range(weight)]
    ScoringUser.wait_time = constant(SCENARIO["wait_s"])
    ScoringUser.network_timeout = SCENARIO["request_timeout_s"]
    ScoringUser.connection_timeout = SCENARIO["request_timeout_s"]
    if isinstance(environment.runner, MasterRunner):
        return
    processes = SCENARIO["workers"] if isinstance(environment.runner, WorkerRunner) else 1
    BUDGET.limit = math.ceil(SCENARIO["max_requests"] / processes)
    environment.events.request.add_listener(BUDGET.count)


class ScoringUser(FastHttpUser):
    """A client of the scoring API: single predictions, batches and health checks."""

    wait_time = constant(0)

    def on_start(self) -> None:
        singles, batches = SCENARIO["singles"], SCENARIO["batches"]
        # Users start at different rows so concurrent requests are not identical.
        offset = id(self) % len(singles)
        self._singles = itertools.cycle(singles[offset:] + singles[:offset])
        self._batches = itertools.cycle(batches[offset % len(batches):]
                                        + batches[:offset % len(batches)])

    def _check_budget(self) -> None:
        if BUDGET.spent:
            raise StopUser()

    def _post(self, task: str, body: Any, rows: int) -> None:
        with self.client.post(SCENARIO["paths"][task], json=body, name=SCENARIO["names"][task],
                              catch_response=True) as response:
            if response.status_code != 200:
                return
            answered = _answered_rows(SCENARIO["protocol"], _json(response), task == "predict")
            if answered is None:
                response.failure(f"answer not in the {SCENARIO['protocol']} protocol's shape")
            elif answered != rows:
                response.failure(f"{answered} predictions for {rows} rows")

    def predict(self) -> None:
        self._check_budget()
        self._post("predict", next(self._singles), 1)

    def predict_batch(self) -> None:
        self._check_budget()
        batch = next(self._batches)
        self._post("predict_batch", batch["body"], batch["rows"])

    def health(self) -> None:
        self._check_budget()
        self.client.get(SCENARIO["paths"]["health"], name=SCENARIO["names"]["health"])

    tasks: ClassVar[list[Any]] = [predict]  # replaced by the scenario's weights at init


class BoundedRun(LoadTestShape):
    """Ramp to ``users`` at ``spawn_rate``; stop at ``run_time_s`` or ``max_requests``."""

    def tick(self) -> tuple[int, float] | None:
        if not SCENARIO:
            return None
        if self.get_run_time() >= SCENARIO["run_time_s"]:
            return None
        if self.runner is not None and self.runner.stats.total.num_requests >= SCENARIO["max_requests"]:
            return None
        return SCENARIO["users"], SCENARIO["spawn_rate"]

