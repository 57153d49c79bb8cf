"""Quality metrics of a binary classifier, computed from labels and scores."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass(frozen=True)
class RatioTerms:
    """A metric as a ratio of two sums over rows, sum(numerator) / sum(denominator);
    ``empty`` is its value when the denominator sums to zero."""

    numerator: np.ndarray
    denominator: np.ndarray
    empty: float


def ratio_terms(name: str, y_true: np.ndarray, scores: np.ndarray,
                threshold: float) -> RatioTerms:
    """Every metric but ROC AUC, row by row: the mean metrics (log loss, Brier, accuracy)
    over a denominator of ones, precision, recall and F1 over counts."""
    predicted = scores >= threshold
    positive = y_true.astype(bool)
    tp = (predicted & positive).astype(float)
    ones = np.ones(len(scores), dtype=float)
    if name == "log_loss":
        p = np.clip(scores, _EPS, 1 - _EPS)
        return RatioTerms(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p)), ones, np.nan)
    if name == "brier":
        return RatioTerms((scores - y_true) ** 2, ones, np.nan)
    if name == "accuracy":
        return RatioTerms((predicted == positive).astype(float), ones, np.nan)
    # Nothing to divide by gives 0 for these, as scikit-learn reports it.
    if name == "precision":
        return RatioTerms(tp, predicted.astype(float), 0.0)
    if name == "recall":
        return RatioTerms(tp, positive.astype(float), 0.0)
    if name == "f1":
        return RatioTerms(2 * tp, predicted.astype(float) + positive.astype(float), 0.0)
    raise KeyError(f"{name} is not a ratio of row sums")
