"""Analytic confidence intervals, paired or not, in one pass over the rows.

- ROC AUC: DeLong's method (DeLong, DeLong and Clarke-Pearson 1988) in the fast form of
  Sun and Xu (2014): each positive's and each negative's share of the AUC ("structural
  components") from three midrank vectors, so the cost is a sort, O(n log n).
- Log loss, Brier score, accuracy: means of a per-row loss; the central limit theorem on
  the per-row values (for a paired difference, on the per-row differences).
- Precision, recall, F1: ratios of two row sums, sum(a) / sum(b); the delta method, whose
  per-row influence is (a_i - R b_i) / mean(b). With b = 1 this is the mean case above.

The interval is the normal one, value +/- z * standard error, but for the paired recall
difference: Agresti and Min's (2005) interval for matched proportions, the Wald interval
of the difference with one half added to each cell of the 2x2 table of the two models'
hits on the positives. The plain Wald interval has zero width when the models never
disagree on a positive, and covered 0.80-0.87 at 10 positives (benchmarks/coverage.py);
Agresti-Min is conservative there and near nominal from 50.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.stats import norm, rankdata

from harness.stats.estimates import Estimate, Interval, PairedEstimate


def _normal(value: float, variance: float, confidence: float) -> Interval:
    if not (math.isfinite(value) and math.isfinite(variance)):
        return Interval(float("nan"), float("nan"))
    half = float(norm.ppf(0.5 + confidence / 2)) * math.sqrt(max(variance, 0.0))
    return Interval(value - half, value + half)


def _variance_of_mean(values: np.ndarray) -> float:
    """The variance of the mean of ``values``: their sample variance over their count."""
    if len(values) < 2:
        return float("nan")
    return float(np.var(values, ddof=1)) / len(values)


# The binary metrics other than ROC AUC as ratios of row sums: what the delta method
# needs, and what the bootstrap resamples (harness.kinds.metrics.binary).
_EPS = 1e-15


@dataclass(frozen=True)
class RatioTerms:
    """A metric as a ratio of two sums over rows, sum(numerator) / sum(denominator);
    ``empty`` is its value when the denominator sums to zero."""

    numerator: np.ndarray
    denominator: np.ndarray
    empty: float


def prior_loss(name: str, y: np.ndarray) -> float:
    """The Brier score (``brier_skill``) or log loss (``log_loss_skill``) of the no-skill
    model, which scores every row at the base rate."""
    rate = float(np.mean(y)) if len(y) else float("nan")
    if name == "brier_skill":
        return rate * (1 - rate)
    p = min(max(rate, _EPS), 1 - _EPS)
    return float(-(rate * np.log(p) + (1 - rate) * np.log(1 - p)))


def ratio_terms(name: str, y_true: np.ndarray, scores: np.ndarray,
                threshold: float) -> RatioTerms:
    """Every metric but ROC AUC and average precision, row by row: the mean metrics (log
    loss, Brier, their skill scores, accuracy) over a denominator of ones, precision, recall and F1 over counts."""
    if name in ("brier_skill", "log_loss_skill"):
        # 1 - loss / prior, a mean of 1 - loss_i / prior: the base rate held fixed, as the
        # bootstrap holds it (drawn within each class); one class has no prior to beat.
        base = prior_loss(name, y_true)
        loss = ratio_terms(name.removesuffix("_skill"), y_true, scores, threshold).numerator
        ones = np.ones(len(scores), dtype=float)
        if not base > 0:
            return RatioTerms(np.full(len(scores), np.nan), ones, np.nan)
        return RatioTerms(1.0 - loss / base, ones, np.nan)
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


class _Parts(Protocol):
    value: float

    def variance(self, other: _Parts | None = None) -> float: ...


class _Delong:
    """ROC AUC and its structural components for one score vector; ties count one half."""

    def __init__(self, positive: np.ndarray, scores: np.ndarray) -> None:
        pos, neg = scores[positive], scores[~positive]
        m, n = len(pos), len(neg)
        self.defined = m > 0 and n > 0
        if not self.defined:
            self.value = float("nan")
            return
        combined = rankdata(np.concatenate([pos, neg]))
        within_pos, within_neg = rankdata(pos), rankdata(neg)
        # A positive's rank among all rows less its rank among positives counts the
        # negatives below it (ties a half): its share of the wins.
        self.v10 = (combined[:m] - within_pos) / n
        self.v01 = 1.0 - (combined[m:] - within_neg) / m
        self.value = float(self.v10.mean())

    def variance(self, other: _Parts | None = None) -> float:
        """The variance of this AUC, or of this AUC less ``other``'s on the same rows."""
        if not self.defined:
            return float("nan")
        v10, v01 = self.v10, self.v01
        if isinstance(other, _Delong):
            v10, v01 = v10 - other.v10, v01 - other.v01
        return _variance_of_mean(v10) + _variance_of_mean(v01)


class _Ratio:
    """sum(a) / sum(b) and each row's influence on it (the delta method)."""

    def __init__(self, name: str, y: np.ndarray, scores: np.ndarray, threshold: float) -> None:
        terms = ratio_terms(name, y, scores, threshold)
        mean_b = float(terms.denominator.mean()) if len(y) else 0.0
        self.defined = mean_b > 0
        if not self.defined:
            self.value = terms.empty
            self.influence = np.zeros(len(y))
            return
        self.value = float(terms.numerator.sum() / terms.denominator.sum())
        self.influence = (terms.numerator - self.value * terms.denominator) / mean_b

    def variance(self, other: _Parts | None = None) -> float:
        influence = self.influence
        if isinstance(other, _Ratio):
            influence = influence - other.influence
        return _variance_of_mean(influence)


# Metrics with no analytic interval here: always the bootstrap.
BOOTSTRAP_ONLY = frozenset({"average_precision"})


def _components(name: str, y: np.ndarray, scores: np.ndarray,
                threshold: float) -> _Parts:
    if name == "roc_auc":
        return _Delong(y.astype(bool), scores)
    return _Ratio(name, y, scores, threshold)


def estimate(name: str, y: np.ndarray, scores: np.ndarray, threshold: float,
             confidence: float) -> Estimate:
    """A metric's value on all rows (the same figure ``metrics.compute`` gives, from the
    same sums) and its analytic interval."""
    parts = _components(name, y, scores, threshold)
    return Estimate(parts.value, _normal(parts.value, parts.variance(), confidence), "analytic")


def matched_proportions(hits_a: np.ndarray, hits_b: np.ndarray, confidence: float) -> Interval:
    """Agresti-Min's interval of P(a) - P(b) from paired hits (booleans, one per trial):
    the Wald interval with one half added to each cell of their 2x2 table."""
    only_a = float(np.count_nonzero(hits_a & ~hits_b)) + 0.5
    only_b = float(np.count_nonzero(~hits_a & hits_b)) + 0.5
    trials = len(hits_a) + 2.0
    difference = (only_a - only_b) / trials
    variance = ((only_a + only_b) / trials - difference ** 2) / trials
    return _normal(difference, variance, confidence)


def paired(name: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
           threshold: float, confidence: float, small_sample: bool = True) -> PairedEstimate:
    """Candidate and baseline on the same rows; the difference's interval uses the per-row
    paired differences, so what the two models share cancels out. ``small_sample``:
    Agresti-Min for the recall difference (else the delta method's Wald interval)."""
    cand = _components(name, y, candidate, threshold)
    base = _components(name, y, baseline, threshold)
    difference = cand.value - base.value
    interval = _normal(difference, cand.variance(base), confidence)
    if name == "recall" and small_sample and np.any(y == 1):
        positive = y == 1
        interval = matched_proportions(candidate[positive] >= threshold,
                                       baseline[positive] >= threshold, confidence)
    return PairedEstimate(
        Estimate(cand.value, _normal(cand.value, cand.variance(), confidence), "analytic"),
        Estimate(base.value, _normal(base.value, base.variance(), confidence), "analytic"),
        Estimate(difference, interval, "analytic"),
    )
