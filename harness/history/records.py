"""What the history store keeps, as typed records: what a run writes (``RunRecord`` with
its ``MetricRecord``s) and what reading gives back (``StoredRun``, ``RunMetric``,
``PassportRecord``)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.clock import utc_now

# The newest migration's revision (tests check it is Alembic's head). A store already there
# is opened without Alembic, whose import alone costs most of a second, and read by
# ``harness status`` without SQLAlchemy (glance.py).
SCHEMA_HEAD = "0003"


@dataclass(frozen=True)
class MetricRecord:
    gate: str
    dataset: str
    segment: str
    metric: str
    value: float | None
    status: str
    ci_low: float | None = None
    ci_high: float | None = None
    baseline: str | None = None
    baseline_value: float | None = None


@dataclass(frozen=True)
class RunRecord:
    project: str
    profile: str
    candidate_id: str
    model_sha256: str
    config_sha256: str
    golden_sha256: dict[str, str]
    verdict: str
    duration_s: float
    tests: int
    failures: int
    errors: int
    skipped: int
    metrics: list[MetricRecord] = field(default_factory=list)
    created_at: str = field(
        default_factory=utc_now
    )


@dataclass(frozen=True)
class RunMetric:
    """A recorded metric, with the id and time of the run that measured it."""

    run_id: int
    created_at: str
    gate: str
    dataset: str
    segment: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    baseline: str | None
    baseline_value: float | None
    status: str


@dataclass(frozen=True)
class StoredRun:
    """A recorded run; ``metrics`` is None where it was listed without them (``runs()``)."""

    id: int
    created_at: str
    project: str
    profile: str
    candidate_id: str
    model_sha256: str
    config_sha256: str
    golden_sha256: dict[str, str]
    verdict: str
    duration_s: float
    tests: int
    failures: int
    errors: int
    skipped: int
    metrics: list[RunMetric] | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any], metrics: list[RunMetric] | None = None
                 ) -> StoredRun:
        return cls(**{**row, "golden_sha256": json.loads(row["golden_sha256"])},
                   metrics=metrics)


@dataclass(frozen=True)
class PassportRecord:
    """A blessed passport as history recorded it."""

    id: int
    created_at: str
    dataset: str
    number: int
    golden_manifest_sha256: str
    model_sha256: str
    blessed_by: str
    reason: str
    file_sha256: str
    metrics: dict[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PassportRecord:
        values = dict(row)
        metrics = json.loads(values.pop("metrics_json"))
        return cls(**values, metrics=metrics)


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    candidate_id: str
    evidence_sha256: str | None
    outcome: str
    detail: str


@dataclass(frozen=True)
class LockHolder:
    holder: str
    host: str
    pid: int
    acquired_at: str
    journal: dict[str, Any]

    @classmethod
    def from_row(cls, holder: str, host: str, pid: int, acquired_at: str,
                 journal: str) -> LockHolder:
        return cls(holder, host, pid, acquired_at, json.loads(journal))

    def alive(self) -> bool:
        """Whether the holding process still runs (known only on the same host)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
