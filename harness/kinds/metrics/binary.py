"""Quality metrics of a binary classifier, from labels (1 for the positive class) and
scores (P(positive)): on all rows as scikit-learn computes them, and on each bootstrap
resample with array operations, ratio metrics as sums over the rows drawn and ROC AUC from
one table of counts per score group."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm

from harness.stats.analytic import prior_loss, ratio_terms
from harness.stats.bootstrap import Resampled, RowMetric

_EPS = 1e-15

def _labels(scores: np.ndarray, threshold: float) -> np.ndarray:
    return (scores >= threshold).astype(int)


def _skill(name: str, y: np.ndarray, scores: np.ndarray) -> float:
    """1 - loss / the prior's loss: 0 for a constant guess at the base rate, 1 for a
    perfect model, negative for worse than the guess; undefined with one class."""
    base = prior_loss(name, y)
    if not base > 0:
        return float("nan")
    loss = _METRICS[name.removesuffix("_skill")](y, scores, 0.5)
    return 1.0 - loss / base


def _average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    if not y.any():
        return float("nan")
    return float(skm.average_precision_score(y, scores))


_METRICS: dict[str, Callable[[np.ndarray, np.ndarray, float], float]] = {
    "roc_auc": lambda y, s, t: skm.roc_auc_score(y, s),
    "log_loss": lambda y, s, t: skm.log_loss(y, np.clip(s, _EPS, 1 - _EPS), labels=[0, 1]),
    "brier": lambda y, s, t: skm.brier_score_loss(y, s),
    "precision": lambda y, s, t: skm.precision_score(y, _labels(s, t), zero_division=0),
    "recall": lambda y, s, t: skm.recall_score(y, _labels(s, t), zero_division=0),
    "accuracy": lambda y, s, t: skm.accuracy_score(y, _labels(s, t)),
    "f1": lambda y, s, t: skm.f1_score(y, _labels(s, t), zero_division=0),
    "brier_skill": lambda y, s, t: _skill("brier_skill", y, s),
    "log_loss_skill": lambda y, s, t: _skill("log_loss_skill", y, s),
    "average_precision": lambda y, s, t: _average_precision(y, s),
}


def compute(name: str, y_true: np.ndarray, scores: np.ndarray, threshold: float) -> float:
    """One metric by name; ``y_true`` is 1 for the positive class, ``scores`` P(positive)."""
    if name == "roc_auc" and len(np.unique(y_true)) < 2:
        return float("nan")
    return float(_METRICS[name](y_true, scores, threshold))


def _auc_groups(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank groups for ROC AUC: rows with equal scores share a group, and consecutive
    groups holding one class only are merged, which changes no positive-negative
    comparison but makes the count table several times smaller."""
    unique, group = np.unique(scores, return_inverse=True)
    positives = np.bincount(group, weights=y, minlength=len(unique))
    rows = np.bincount(group, minlength=len(unique))
    held = np.where(positives == 0, 0, np.where(positives == rows, 1, 2))  # 2: mixed
    starts = np.r_[True, (held[1:] != held[:-1]) | (held[1:] == 2)]
    merged = np.cumsum(starts) - 1
    return merged[group], int(merged[-1]) + 1


class _ResampledRocAuc:
    """ROC AUC of each resample, exact with tied scores (a tie counts one half)."""

    def __init__(self, y: np.ndarray, scores: np.ndarray) -> None:
        group, self._groups = _auc_groups(y, scores)
        # One key per row: its group and its class, so one bincount counts both.
        self._key = group.astype(np.int64) * 2 + y.astype(np.int64)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        size, width = rows.shape[0], 2 * self._groups
        keys = np.take(self._key, rows)
        keys += (np.arange(size, dtype=np.int64) * width)[:, None]
        counts = np.bincount(keys.ravel(), minlength=size * width).reshape(size, -1, 2)
        neg, pos = counts[:, :, 0], counts[:, :, 1]
        below = np.cumsum(neg, axis=1)
        below -= neg
        wins = np.einsum("ij,ij->i", pos, below) + 0.5 * np.einsum("ij,ij->i", pos, neg)
        pairs = pos.sum(axis=1) * neg.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(pairs > 0, wins / pairs, np.nan)


class _ResampledRatio:
    """Metrics that are a ratio of two sums over the rows drawn: sum(a) / sum(b)."""

    def __init__(self, name: str, y: np.ndarray, scores: np.ndarray, threshold: float) -> None:
        self._terms = ratio_terms(name, y, scores, threshold)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        terms = self._terms
        num = np.take(terms.numerator, rows).sum(axis=1)
        den = np.take(terms.denominator, rows).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, terms.empty)


class _ResampledAveragePrecision:
    """Average precision of each resample, as scikit-learn computes it: over the distinct
    scores from the highest, the precision at each weighted by the recall it adds."""

    def __init__(self, y: np.ndarray, scores: np.ndarray) -> None:
        unique, group = np.unique(-scores, return_inverse=True)  # group 0: the highest score
        # Consecutive groups without a positive add no recall: merged, they leave every
        # positive group's counts as they were and make the table far smaller.
        negative = np.bincount(group, weights=y, minlength=len(unique)) == 0
        starts = np.r_[True, ~(negative[1:] & negative[:-1])]
        merged = np.cumsum(starts) - 1
        self._groups = int(merged[-1]) + 1
        self._key = merged[group].astype(np.int64) * 2 + y.astype(np.int64)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        size, width = rows.shape[0], 2 * self._groups
        keys = np.take(self._key, rows)
        keys += (np.arange(size, dtype=np.int64) * width)[:, None]
        counts = np.bincount(keys.ravel(), minlength=size * width).reshape(size, -1, 2)
        pos = counts[:, :, 1]
        tp = np.cumsum(pos, axis=1)
        flagged = np.cumsum(counts.sum(axis=2), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            precision = np.where(flagged > 0, tp / np.maximum(flagged, 1), 0.0)
            return np.einsum("ij,ij->i", pos, precision) / tp[:, -1]


class _ResampledSkill:
    """A skill score of each resample against the prior of the rows drawn: 1 - their
    mean loss over the loss of their base rate (drawn within each class, the base rate
    and so the prior are those of all rows)."""

    def __init__(self, name: str, y: np.ndarray, scores: np.ndarray) -> None:
        self._name = name
        self._y = y.astype(float)
        self._loss = ratio_terms(name.removesuffix("_skill"), y, scores, 0.5).numerator

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        rate = np.take(self._y, rows).mean(axis=1)
        if self._name == "brier_skill":
            prior = rate * (1 - rate)
        else:
            p = np.clip(rate, _EPS, 1 - _EPS)
            prior = -(rate * np.log(p) + (1 - rate) * np.log(1 - p))
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(prior > 0, 1.0 - np.take(self._loss, rows).mean(axis=1) / prior,
                            np.nan)


def resampled_metric(name: str, y: np.ndarray, scores: np.ndarray,
                     threshold: float) -> Resampled:
    """A function of a (block, n) array of drawn rows giving the metric of each resample."""
    if name == "roc_auc":
        return _ResampledRocAuc(y, scores)
    if name == "average_precision":
        return _ResampledAveragePrecision(y, scores)
    if name in SKILLS:
        return _ResampledSkill(name, y, scores)
    return _ResampledRatio(name, y, scores, threshold)


def row_metric(name: str, y: np.ndarray, scores: np.ndarray, threshold: float) -> RowMetric:
    """The metric on all rows (scikit-learn's figure) and on each resample. ROC AUC and
    recall are resampled within each class (pROC's default for the AUC): both are defined
    given the positives (and negatives), as DeLong's variance is, and a resample without
    a positive would leave them undefined. Average precision and the skill scores are
    measured against the class mix, so it is kept too. The others' variance includes it."""
    strata = y if name in _STRATIFIED else None
    return RowMetric(compute(name, y, scores, threshold),
                     resampled_metric(name, y, scores, threshold), len(y), strata=strata)


SKILLS = frozenset({"brier_skill", "log_loss_skill"})
# Average precision and the skill scores keep the class mix fixed too: both are measured
# against it (precision's base rate, the prior's loss).
_STRATIFIED = frozenset({"roc_auc", "recall", "average_precision"}) | SKILLS
