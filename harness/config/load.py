"""The config's load sections: a bounded Locust run, its scenario and SLOs, and the short
load check after a promotion."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    model_validator,
)

from harness.config.base import HttpUrl, StrictModel

LoadMetric = Literal["p50_ms", "p95_ms", "p99_ms", "error_ratio", "rps"]


class LoadSLO(StrictModel):
    """One service-level objective of a load test, on one endpoint or ``overall``.

    ``on_inconclusive``: what a missed SLO does when the load generator itself was
    saturated (harness/load/generator.py), so the figure says nothing of the service:
    ``fail`` blocks, the message starting "inconclusive"; ``warn`` passes with a warning."""

    endpoint: str = Field(pattern=r"^(overall|/\S*)$")
    metric: LoadMetric
    min: float | None = None
    max: float | None = None
    on_inconclusive: Literal["fail", "warn"] = "fail"

    @model_validator(mode="after")
    def _one_bound(self) -> LoadSLO:
        if (self.min is None) == (self.max is None):
            raise ValueError("an SLO needs exactly one of 'min' or 'max'")
        return self


class LoadScenario(StrictModel):
    """What each simulated user sends: task weights, and the golden rows requests are built from."""

    predict: int = Field(default=8, ge=0)
    predict_batch: int = Field(default=1, ge=0)
    health: int = Field(default=1, ge=0)
    batch_size: int = Field(default=16, ge=1, le=1000)
    dataset: str | None = None  # a golden dataset's name; default: the first
    wait_s: float = Field(default=0.0, ge=0)  # think time between a user's requests

    @model_validator(mode="after")
    def _something_to_send(self) -> LoadScenario:
        if self.predict + self.predict_batch + self.health == 0:
            raise ValueError("every task weight is 0: the scenario would send nothing")
        return self


class LoadSpec(StrictModel):
    """A bounded Locust run against a running service, and the SLOs it must meet.

    ``url`` defaults to ``model.url``; a target that is not loopback is refused unless
    ``allow_remote`` says so on purpose. ``workers`` defaults to the cores available."""

    url: HttpUrl | None = None
    allow_remote: bool = False
    # The team's own Locust scenario; default: the generic one shipped with the harness,
    # which speaks the harness's HTTP contract.
    locustfile: Path | None = None
    users: int = Field(default=10, ge=1, le=10_000)
    spawn_rate: float = Field(default=10.0, gt=0)
    run_time_s: float = Field(default=10.0, gt=0, le=3600)
    max_requests: int = Field(default=10_000, ge=1)
    workers: int | None = Field(default=None, ge=0, le=256)
    # Load past one machine: the master also waits for this many workers started on other
    # hosts (`harness load worker --master HOST:PORT`), listening for them on master_bind.
    remote_workers: int = Field(default=0, ge=0, le=1024)
    master_bind: str | None = Field(default=None, pattern=r"^[^\s:]+:\d{1,5}$")
    request_timeout_s: float = Field(default=5.0, gt=0)
    scenario: LoadScenario = Field(default_factory=LoadScenario)
    slos: list[LoadSLO] = Field(default_factory=list)

    @model_validator(mode="after")
    def _slos_are_unique(self) -> LoadSpec:
        seen = set()
        for slo in self.slos:
            key = (slo.endpoint, slo.metric)
            if key in seen:
                raise ValueError(f"two SLOs for {slo.metric} on {slo.endpoint}; keep one")
            seen.add(key)
        return self

    def worker_count(self) -> int:
        """Local Locust worker processes: as configured, else one per core available (none
        when workers on other hosts are expected)."""
        if self.workers is not None:
            return self.workers
        return 0 if self.remote_workers else os.cpu_count() or 1

    @model_validator(mode="after")
    def _someone_sends_load(self) -> LoadSpec:
        if self.workers == 0 and self.remote_workers == 0:
            raise ValueError("'workers' is 0 and no 'remote_workers' are expected: nothing "
                             "would send load")
        return self


class PromotionLoadSpec(StrictModel):
    """A short load check against production once a promotion switched it: its own bounds
    and SLOs (the scenario and locustfile are ``load``'s). A failed SLO rolls back."""

    users: int = Field(default=5, ge=1, le=10_000)
    spawn_rate: float = Field(default=5.0, gt=0)
    run_time_s: float = Field(default=5.0, gt=0, le=600)
    max_requests: int = Field(default=2000, ge=1)
    workers: int | None = Field(default=1, ge=1, le=256)
    slos: list[LoadSLO] = Field(min_length=1)
