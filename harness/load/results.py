"""Read a Locust run's CSV output back into typed figures, without importing Locust.

Locust writes ``<prefix>_stats.csv`` (one row per endpoint and an ``Aggregated`` row),
``<prefix>_stats_history.csv`` (a row per second) and ``<prefix>_failures.csv``.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import LoadTestError
from harness.load.generator import GeneratorCPU

OVERALL = "overall"


@dataclass(frozen=True)
class EndpointStats:
    """What Locust measured for one endpoint (or ``overall``); latencies in milliseconds."""

    name: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    rps: float

    @property
    def error_ratio(self) -> float:
        return self.failures / self.requests if self.requests else 1.0

    def metric(self, name: str) -> float:
        return float(getattr(self, name))


@dataclass(frozen=True)
class LoadResults:
    """One load run: per-endpoint figures, the errors seen, and where Locust's reports are.

    ``unreachable`` says why no request was made at all (the target did not answer);
    ``generator`` is Locust's own CPU during the run (harness/load/generator.py)."""

    url: str
    endpoints: dict[str, EndpointStats] = field(default_factory=dict)
    errors: dict[str, Counter[str]] = field(default_factory=dict)
    duration_s: float = 0.0
    peak_users: int = 0
    unreachable: str | None = None
    html: Path | None = None
    generator: GeneratorCPU | None = None  # the load generator's own CPU, when sampled

    def top_error(self, endpoint: str) -> str | None:
        """The most frequent error on ``endpoint`` (any endpoint for ``overall``)."""
        counts: Counter[str] = Counter()
        for name, errors in self.errors.items():
            if endpoint in (OVERALL, name):
                counts.update(errors)
        if not counts:
            return None
        error, times = counts.most_common(1)[0]
        return f"{error} ({times} times)"


def _float(value: str) -> float:
    return float(value) if value not in ("", "N/A") else 0.0


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except FileNotFoundError:
        raise LoadTestError(f"Locust wrote no {path.name}; see the Locust logs in {path.parent}")


def read_results(prefix: Path, url: str, html: Path | None = None) -> LoadResults:
    """The figures of the run whose CSV files start with ``prefix``."""
    endpoints = {}
    for row in _rows(prefix.with_name(prefix.name + "_stats.csv")):
        name = OVERALL if row["Name"] == "Aggregated" else row["Name"]
        endpoints[name] = EndpointStats(
            name=name,
            requests=int(row["Request Count"]),
            failures=int(row["Failure Count"]),
            p50_ms=_float(row["50%"]),
            p95_ms=_float(row["95%"]),
            p99_ms=_float(row["99%"]),
            rps=_float(row["Requests/s"]),
        )
    errors: dict[str, Counter[str]] = {}
    for row in _rows(prefix.with_name(prefix.name + "_failures.csv")):
        errors.setdefault(row["Name"], Counter())[row["Error"]] += int(row["Occurrences"])
    history = [r for r in _rows(prefix.with_name(prefix.name + "_stats_history.csv"))
               if r["Name"] == "Aggregated"]
    active = [r for r in history if int(r["User Count"]) > 0]
    duration = int(active[-1]["Timestamp"]) - int(active[0]["Timestamp"]) + 1 if active else 0
    peak = max((int(r["User Count"]) for r in history), default=0)
    return LoadResults(url=url, endpoints=endpoints, errors=errors, duration_s=float(duration),
                       peak_users=peak, html=html)
