"""Quality metrics of a regression model, as functions of the rows drawn.

Like the multiclass metrics, each is a function of a (resamples, rows) array of row
numbers: the figure on all rows and its bootstrap intervals come from the same code.
"""

from __future__ import annotations

import numpy as np

from harness.stats.bootstrap import Resampled, RowMetric

QUANTILE_PREFIX = "abs_error_p"


def quantile_of(name: str) -> float | None:
    """The quantile an ``abs_error_pNN`` metric stands for (``abs_error_p90`` -> 0.9)."""
    if not name.startswith(QUANTILE_PREFIX):
        return None
    return int(name[len(QUANTILE_PREFIX):]) / 100


def resampled(name: str, y: np.ndarray, predictions: np.ndarray) -> Resampled:
    """The metric ``name`` of each resample: RMSE, MAE, R² or a quantile of |error|."""
    error = predictions - y
    absolute = np.abs(error)
    squared = error**2

    def mean(values: np.ndarray) -> Resampled:
        return lambda rows: np.take(values, rows).mean(axis=1)

    if name == "rmse":
        return lambda rows: np.sqrt(mean(squared)(rows))
    if name == "mae":
        return mean(absolute)
    if name == "r2":
        def r2(rows: np.ndarray) -> np.ndarray:
            drawn = np.take(y, rows)
            total = ((drawn - drawn.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
            residual = np.take(squared, rows).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(total > 0, 1 - residual / np.where(total > 0, total, 1), np.nan)

        return r2
    q = quantile_of(name)
    if q is not None:
        return lambda rows: np.quantile(np.take(absolute, rows), q, axis=1)
    raise ValueError(f"unknown regression metric {name!r}")



def row_metric(name: str, y: np.ndarray, predictions: np.ndarray) -> RowMetric:
    """The metric on all rows and on each resample."""
    return RowMetric.from_resampled(resampled(name, y, predictions), len(y))
