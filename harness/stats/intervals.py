"""Which method gives an interval, by the config and the rows: the bootstrap on few rows
or when asked, the analytic one (harness.stats.analytic) on many."""

from __future__ import annotations

import numpy as np

from harness.config import BootstrapSpec, IntervalSpec
from harness.stats import analytic, bootstrap
from harness.stats.estimates import Estimate, Method, PairedEstimate


def method_for(rows: int, spec: IntervalSpec) -> Method:
    if spec.method == "auto":
        return "analytic" if rows >= spec.analytic_min_rows else "bootstrap"
    return spec.method


def estimate(name: str, y: np.ndarray, scores: np.ndarray, threshold: float,
             spec: IntervalSpec, settings: BootstrapSpec) -> Estimate:
    """A metric's value on the rows given and its interval."""
    if method_for(len(y), spec) == "analytic":
        return analytic.estimate(name, y, scores, threshold, settings.confidence)
    return bootstrap.estimate(name, y, scores, threshold, settings.resamples,
                              settings.confidence, settings.seed)


def paired(name: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
           threshold: float, spec: IntervalSpec, settings: BootstrapSpec) -> PairedEstimate:
    """Candidate against baseline on the same rows, with the interval of the difference."""
    if method_for(len(y), spec) == "analytic":
        return analytic.paired(name, y, candidate, baseline, threshold, settings.confidence)
    return bootstrap.paired(name, y, candidate, baseline, threshold, settings.resamples,
                            settings.confidence, settings.seed)
