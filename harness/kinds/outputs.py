"""What a model's answer must be, per kind: P(positive) per row for a binary classifier,
a (rows, classes) probability matrix for a multiclass one, a finite number per row for a
regression. Every adapter's raw output goes through here (by its kind's ``scores``),
in-process or over HTTP."""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.errors import ModelLoadError

# Rows of a probability matrix may be off by float formatting (JSON) or rounding.
_SUM_TOLERANCE = 1e-4


def _one_per_row(raw: Any, rows: int, source: str, what: str) -> np.ndarray:
    values = np.asarray(raw, dtype=float)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    if values.shape != (rows,):
        raise ModelLoadError(f"{source} returned {values.shape} scores for {rows} rows; "
                             f"expected {what} per row")
    return values


def probabilities(raw: Any, rows: int, source: str) -> np.ndarray:
    """One probability of the positive class per row."""
    values = _one_per_row(raw, rows, source, "one probability of the positive class")
    if not np.all((values >= 0) & (values <= 1)):
        raise ModelLoadError(f"{source} returned scores outside [0, 1]; expected probabilities")
    return values


def probability_matrix(raw: Any, rows: int, classes: list[Any], source: str) -> np.ndarray:
    """One row of class probabilities per row, columns in the order of ``classes``."""
    values = np.asarray(raw, dtype=float)
    if values.shape != (rows, len(classes)):
        raise ModelLoadError(
            f"{source} returned {values.shape} scores for {rows} rows; expected a probability "
            f"per class ({len(classes)}: {', '.join(map(str, classes))}) for each row"
        )
    if not np.all((values >= 0) & (values <= 1)) or not np.allclose(
            values.sum(axis=1), 1, atol=_SUM_TOLERANCE):
        raise ModelLoadError(f"{source} returned rows that are not probabilities summing to 1")
    return values


def predictions(raw: Any, rows: int, source: str) -> np.ndarray:
    """One finite prediction per row."""
    values = _one_per_row(raw, rows, source, "one number")
    if not np.all(np.isfinite(values)):
        raise ModelLoadError(f"{source} returned predictions that are not finite numbers")
    return values

