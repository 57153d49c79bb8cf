"""Paired bootstrap intervals for multiclass and regression metrics.

The same resampling as binary metrics (``harness.stats.bootstrap``): candidate and baseline are
scored on identical resamples, so the interval of their difference is paired. The figure
on all rows is the metric of the one "resample" that holds every row once.
"""

from __future__ import annotations

import numpy as np

from harness.kinds import multiclass as metrics_multiclass
from harness.kinds import regression as metrics_regression
from harness.kinds.multiclass import Resampled
from harness.stats.bootstrap import _interval, resample_rows
from harness.stats.estimates import Estimate, PairedEstimate


def resampled(kind: str, name: str, y: np.ndarray, scores: np.ndarray,
              classes: list[str]) -> Resampled:
    if kind == "multiclass":
        return metrics_multiclass.resampled(name, y, scores, classes)
    if kind == "regression":
        return metrics_regression.resampled(name, y, scores)
    raise ValueError(f"no resampled metrics here for kind {kind!r}")


def value(kind: str, name: str, y: np.ndarray, scores: np.ndarray, classes: list[str]) -> float:
    """The metric on all rows."""
    every_row = np.arange(len(y), dtype=np.intp)[None, :]
    return float(resampled(kind, name, y, scores, classes)(every_row)[0])


def samples(kind: str, name: str, y: np.ndarray, score_sets: list[np.ndarray],
            classes: list[str], resamples: int, seed: int) -> np.ndarray:
    """The metric for each score set on the same resamples: (len(score_sets), resamples)."""
    functions = [resampled(kind, name, y, s, classes) for s in score_sets]
    blocks = [np.stack([f(rows) for f in functions])
              for rows in resample_rows(len(y), resamples, seed)]
    return np.concatenate(blocks, axis=1)


def estimate(kind: str, name: str, y: np.ndarray, scores: np.ndarray, classes: list[str],
             resamples: int, confidence: float, seed: int) -> Estimate:
    drawn = samples(kind, name, y, [scores], classes, resamples, seed)[0]
    return Estimate(value(kind, name, y, scores, classes), _interval(drawn, confidence))


def paired(kind: str, name: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
           classes: list[str], resamples: int, confidence: float, seed: int) -> PairedEstimate:
    """Candidate and baseline on identical resamples of the same rows."""
    cand, base = samples(kind, name, y, [candidate, baseline], classes, resamples, seed)
    value_c = value(kind, name, y, candidate, classes)
    value_b = value(kind, name, y, baseline, classes)
    return PairedEstimate(
        Estimate(value_c, _interval(cand, confidence)),
        Estimate(value_b, _interval(base, confidence)),
        Estimate(value_c - value_b, _interval(cand - base, confidence)),
    )
