"""Which method gives an interval, by the kind, the config and the rows: the bootstrap on
few rows or when asked, the analytic one (harness.stats.analytic) on many, for a kind
whose metrics have one. Every interval is clipped to the values its metric can take
(ROC AUC within [0, 1], a difference within plus or minus the metric's span), as pROC
clips its AUC interval: a normal interval near a bound may otherwise run past it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from harness.config import BootstrapSpec, IntervalSpec
from harness.kinds import Kind, metric
from harness.stats import analytic, bootstrap
from harness.stats.estimates import Estimate, Interval, Method, PairedEstimate


def method_for(rows: int, spec: IntervalSpec, fewest: int | None = None) -> Method:
    """The method ``spec`` picks for ``rows`` rows whose rarer class has ``fewest`` rows
    (None: a kind without classes)."""
    if spec.method == "auto":
        if fewest is not None and fewest < spec.bootstrap_min_positives:
            return "analytic"
        return "analytic" if rows >= spec.analytic_min_rows else "bootstrap"
    return spec.method


def _analytic(kind: Kind, name: str, y: np.ndarray, spec: IntervalSpec) -> bool:
    if not kind.analytic_intervals or name in analytic.BOOTSTRAP_ONLY:
        return False
    fewest = None
    if kind.needs_positive_label:
        positives = int(np.count_nonzero(y == 1))
        fewest = min(positives, len(y) - positives)
    return method_for(len(y), spec, fewest) == "analytic"


def clipped(estimate: Estimate, low: float, high: float) -> Estimate:
    """The estimate with its interval within [low, high] (NaN bounds stay NaN)."""
    interval = estimate.interval

    def clip(bound: float) -> float:
        return bound if math.isnan(bound) else min(max(bound, low), high)

    return replace(estimate, interval=Interval(clip(interval.low), clip(interval.high)))


def _range(name: str) -> tuple[float, float]:
    known = metric(name)
    return (known.low, known.high) if known is not None else (-math.inf, math.inf)


def _clip_paired(name: str, paired: PairedEstimate) -> PairedEstimate:
    low, high = _range(name)
    span = high - low
    return PairedEstimate(clipped(paired.candidate, low, high),
                          clipped(paired.baseline, low, high),
                          clipped(paired.difference, -span, span))


def estimate(kind: Kind, name: str, y: np.ndarray, scores: np.ndarray, threshold: float,
             spec: IntervalSpec, settings: BootstrapSpec,
             classes: Sequence[Any] = ()) -> Estimate:
    """A metric's value on the rows given and its interval."""
    if _analytic(kind, name, y, spec):
        found = analytic.estimate(name, y, scores, threshold, settings.confidence)
    else:
        found = bootstrap.estimate(kind.row_metric(name, y, scores, classes, threshold),
                                   settings.resamples, settings.confidence, settings.seed)
    return clipped(found, *_range(name))


def paired(kind: Kind, name: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
           threshold: float, spec: IntervalSpec, settings: BootstrapSpec,
           classes: Sequence[Any] = ()) -> PairedEstimate:
    """Candidate against baseline on the same rows, with the interval of the difference."""
    if _analytic(kind, name, y, spec):
        found = analytic.paired(name, y, candidate, baseline, threshold, settings.confidence)
    else:
        found = bootstrap.paired(kind.row_metric(name, y, candidate, classes, threshold),
                                 kind.row_metric(name, y, baseline, classes, threshold),
                                 settings.resamples, settings.confidence, settings.seed)
    return _clip_paired(name, found)
