"""Quality metrics of a multiclass classifier, as functions of the rows drawn.

Labels are class numbers (columns of the probability matrix). Every metric is a function
of a (resamples, rows) array of row numbers, so the figure on all rows (one "resample"
holding every row once) and the bootstrap intervals come from the same code.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from harness.kinds.metrics.binary import resampled_metric
from harness.kinds.names import class_of
from harness.stats.bootstrap import Resampled, RowMetric

_EPS = 1e-15


def _sum(values: np.ndarray, rows: np.ndarray) -> np.ndarray:
    return np.take(values, rows).sum(axis=1)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Row means over the defined entries; NaN (quietly) where none is defined."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=1)


class _PerClass:
    """Per-class counts of the rows drawn: true, predicted and correct, as F1 needs them."""

    def __init__(self, y: np.ndarray, probabilities: np.ndarray) -> None:
        predicted = probabilities.argmax(axis=1)
        classes = range(probabilities.shape[1])
        self._true = [(y == c).astype(float) for c in classes]
        self._predicted = [(predicted == c).astype(float) for c in classes]
        self._correct = [((y == c) & (predicted == c)).astype(float) for c in classes]

    def counts(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(resamples, classes) arrays of true, predicted and correct rows."""
        def stack(columns: list[np.ndarray]) -> np.ndarray:
            return np.stack([_sum(c, rows) for c in columns], axis=1)

        return stack(self._true), stack(self._predicted), stack(self._correct)


def _f1(per_class: _PerClass, weighted: bool) -> Resampled:
    def f1(rows: np.ndarray) -> np.ndarray:
        true, predicted, correct = per_class.counts(rows)
        seen = true + predicted
        # scikit-learn's default: classes neither present nor predicted are left out, and a
        # class predicted but never present scores 0.
        scores = np.where(seen > 0, 2 * correct / np.where(seen > 0, seen, 1), np.nan)
        if weighted:
            return _ratio(np.nansum(scores * true, axis=1), true.sum(axis=1))
        return _nanmean(scores)

    return f1


def _roc_auc_ovr(y: np.ndarray, probabilities: np.ndarray) -> Resampled:
    """The mean over classes of each class's ROC AUC against the rest; a class absent from
    (or alone in) the rows drawn has no AUC and is left out of that mean."""
    per_class = [resampled_metric("roc_auc", (y == c).astype(int), probabilities[:, c], 0.5)
                 for c in range(probabilities.shape[1])]

    def auc(rows: np.ndarray) -> np.ndarray:
        stacked = np.stack([f(rows) for f in per_class], axis=1)
        return _nanmean(stacked)

    return auc


def resampled(name: str, y: np.ndarray, probabilities: np.ndarray,
              classes: list[Any]) -> Resampled:
    """The metric ``name`` of each resample, given labels as class numbers."""
    predicted = probabilities.argmax(axis=1)
    correct = (predicted == y).astype(float)
    ones = np.ones(len(y))
    label = class_of(name)
    if label is not None:
        names = [str(c) for c in classes]  # a CSV's "1" is the model's class 1
        if label not in names:
            raise ValueError(f"no class {label!r} among {classes}")
        c = names.index(label)
        mine = (y == c).astype(float)
        return lambda rows: _ratio(_sum(correct * mine, rows), _sum(mine, rows))
    if name == "log_loss":
        true_p = np.clip(probabilities[np.arange(len(y)), y], _EPS, 1.0)
        loss = -np.log(true_p)
        return lambda rows: _ratio(_sum(loss, rows), _sum(ones, rows))
    if name == "accuracy":
        return lambda rows: _ratio(_sum(correct, rows), _sum(ones, rows))
    if name in ("f1_macro", "f1_weighted"):
        return _f1(_PerClass(y, probabilities), weighted=name == "f1_weighted")
    if name == "roc_auc_ovr":
        return _roc_auc_ovr(y, probabilities)
    raise ValueError(f"unknown multiclass metric {name!r}")



def row_metric(name: str, y: np.ndarray, probabilities: np.ndarray,
               classes: list[Any]) -> RowMetric:
    """The metric on all rows and on each resample."""
    return RowMetric.from_resampled(resampled(name, y, probabilities, classes), len(y))
