"""The generic load scenario (the harness's HTTP contract), run by Locust in its own processes.

The harness writes the scenario (task weights, golden records, bounds) to a JSON file
and names it in ``$HARNESS_LOAD_SCENARIO``; this file only reads it. Locust imports
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
        records = SCENARIO["records"]
        # Users start at different rows so concurrent requests are not identical.
        offset = id(self) % len(records)
        self._records = itertools.cycle(records[offset:] + records[:offset])

    def _check_budget(self) -> None:
        if BUDGET.spent:
            raise StopUser()

    def predict(self) -> None:
        self._check_budget()
        with self.client.post("/predict", json=next(self._records), name="/predict",
                              catch_response=True) as response:
            if response.status_code == 200 and "probability" not in _json(response):
                response.failure("answer has no 'probability'")

    def predict_batch(self) -> None:
        self._check_budget()
        batch = [next(self._records) for _ in range(SCENARIO["batch_size"])]
        with self.client.post("/predict/batch", json={"records": batch}, name="/predict/batch",
                              catch_response=True) as response:
            if response.status_code == 200:
                predictions = _json(response).get("predictions", [])
                if len(predictions) != len(batch):
                    response.failure(f"{len(predictions)} predictions for {len(batch)} records")

    def health(self) -> None:
        self._check_budget()
        self.client.get("/health", name="/health")

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

