"""Which method gives an interval, by the kind, the config and the rows: the bootstrap on
few rows or when asked, the analytic one (harness.stats.analytic) on many, for a kind
whose metrics have one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.config import BootstrapSpec, IntervalSpec
from harness.kinds import Kind
from harness.stats import analytic, bootstrap
from harness.stats.estimates import Estimate, Method, PairedEstimate


def method_for(rows: int, spec: IntervalSpec) -> Method:
    if spec.method == "auto":
        return "analytic" if rows >= spec.analytic_min_rows else "bootstrap"
    return spec.method


def _analytic(kind: Kind, rows: int, spec: IntervalSpec) -> bool:
    return kind.analytic_intervals and method_for(rows, spec) == "analytic"


def estimate(kind: Kind, name: str, y: np.ndarray, scores: np.ndarray, threshold: float,
             spec: IntervalSpec, settings: BootstrapSpec,
             classes: Sequence[Any] = ()) -> Estimate:
    """A metric's value on the rows given and its interval."""
    if _analytic(kind, len(y), spec):
        return analytic.estimate(name, y, scores, threshold, settings.confidence)
    return bootstrap.estimate(kind.row_metric(name, y, scores, classes, threshold),
                              settings.resamples, settings.confidence, settings.seed)


def paired(kind: Kind, name: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
           threshold: float, spec: IntervalSpec, settings: BootstrapSpec,
           classes: Sequence[Any] = ()) -> PairedEstimate:
    """Candidate against baseline on the same rows, with the interval of the difference."""
    if _analytic(kind, len(y), spec):
        return analytic.paired(name, y, candidate, baseline, threshold, settings.confidence)
    return bootstrap.paired(kind.row_metric(name, y, candidate, classes, threshold),
                            kind.row_metric(name, y, baseline, classes, threshold),
                            settings.resamples, settings.confidence, settings.seed)
