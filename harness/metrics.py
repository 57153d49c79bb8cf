"""Quality metrics of a binary classifier, computed from labels and scores."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

_EPS = 1e-15

# Whether a larger value is better decides which bound a gate is expected to use.
HIGHER_IS_BETTER = {
    "roc_auc": True,
    "log_loss": False,
    "brier": False,
    "precision": True,
    "recall": True,
    "accuracy": True,
    "f1": True,
}


def _labels(scores: np.ndarray, threshold: float) -> np.ndarray:
    return (scores >= threshold).astype(int)


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, float], float]] = {
    "roc_auc": lambda y, s, t: skm.roc_auc_score(y, s),
    "log_loss": lambda y, s, t: skm.log_loss(y, np.clip(s, _EPS, 1 - _EPS), labels=[0, 1]),
    "brier": lambda y, s, t: skm.brier_score_loss(y, s),
    "precision": lambda y, s, t: skm.precision_score(y, _labels(s, t), zero_division=0),
    "recall": lambda y, s, t: skm.recall_score(y, _labels(s, t), zero_division=0),
    "accuracy": lambda y, s, t: skm.accuracy_score(y, _labels(s, t)),
    "f1": lambda y, s, t: skm.f1_score(y, _labels(s, t), zero_division=0),
}


def compute(name: str, y_true: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """One metric by name; ``y_true`` is 1 for the positive class, ``scores`` P(positive)."""
    if name == "roc_auc" and len(np.unique(y_true)) < 2:
        return float("nan")
    return float(_METRICS[name](y_true, scores, threshold))
