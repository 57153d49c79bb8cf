"""What an interval estimate is, whichever method produced it (bootstrap or analytic)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Method = Literal["bootstrap", "analytic"]


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def __str__(self) -> str:
        return f"[{self.low:.4f}, {self.high:.4f}]"


@dataclass(frozen=True)
class Estimate:
    """A metric's point value on all rows and its interval, with the method that gave it."""

    value: float
    interval: Interval
    method: Method = "bootstrap"
    # Bootstrap resamples on which the metric was undefined (e.g. one class only); past a
    # small share the interval is refused (undefined), see harness.stats.bootstrap.
    degenerate: int = 0


@dataclass(frozen=True)
class PairedEstimate:
    """Candidate and baseline on the same rows, and their difference."""

    candidate: Estimate
    baseline: Estimate
    difference: Estimate

    @property
    def method(self) -> Method:
        return self.difference.method
