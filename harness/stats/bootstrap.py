"""Paired bootstrap confidence intervals for quality metrics, vectorised over resamples.

Resamples are drawn a block at a time as a (block, rows) array of row numbers, and
every metric is computed for the whole block with array operations: ratio metrics
as sums over the rows drawn, ROC AUC from one table of counts per score group.
Candidate and baseline are scored on identical weights: the interval of their difference is paired, which is what makes a small regression
on a thousand golden rows visible through the noise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from harness.kinds import binary as metrics
from harness.stats.estimates import Estimate, Interval, PairedEstimate

# Row numbers per block: big enough to amortise numpy calls, small enough for memory.
_BLOCK_ELEMENTS = 4_000_000


def resample_rows(n: int, resamples: int, seed: int) -> Iterator[np.ndarray]:
    """Blocks of bootstrap resamples, shape (block, n): the row numbers each one drew."""
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, _BLOCK_ELEMENTS // max(n, 1)))
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        # intp row numbers: np.take then indexes without converting them first.
        yield rng.integers(0, n, size=(size, n), dtype=np.intp)
        done += size


def _auc_groups(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, int]:
    """Rank groups for ROC AUC: rows with equal scores share a group, and consecutive
    groups holding one class only are merged, which changes no positive-negative
    comparison but makes the count table several times smaller."""
    unique, group = np.unique(scores, return_inverse=True)
    positives = np.bincount(group, weights=y, minlength=len(unique))
    rows = np.bincount(group, minlength=len(unique))
    kind = np.where(positives == 0, 0, np.where(positives == rows, 1, 2))  # 2: mixed
    starts = np.r_[True, (kind[1:] != kind[:-1]) | (kind[1:] == 2)]
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
        self._terms = metrics.ratio_terms(name, y, scores, threshold)

    def __call__(self, rows: np.ndarray) -> np.ndarray:
        terms = self._terms
        num = np.take(terms.numerator, rows).sum(axis=1)
        den = np.take(terms.denominator, rows).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(den > 0, num / den, terms.empty)


def resampled_metric(
    name: str, y: np.ndarray, scores: np.ndarray, threshold: float
) -> Callable[[np.ndarray], np.ndarray]:
    """A function of a (block, n) array of drawn rows giving the metric of each resample."""
    if name == "roc_auc":
        return _ResampledRocAuc(y, scores)
    return _ResampledRatio(name, y, scores, threshold)


def _interval(samples: np.ndarray, confidence: float) -> Interval:
    alpha = (1 - confidence) / 2
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return Interval(float("nan"), float("nan"))
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return Interval(float(low), float(high))


def bootstrap_samples(name: str, y: np.ndarray, score_sets: list[np.ndarray], threshold: float,
                      resamples: int, seed: int) -> np.ndarray:
    """The metric for each score vector on the same resamples: shape (len(score_sets), resamples)."""
    functions = [resampled_metric(name, y, s, threshold) for s in score_sets]
    blocks = [
        np.stack([f(rows) for f in functions]) for rows in resample_rows(len(y), resamples, seed)
    ]
    return np.concatenate(blocks, axis=1)


def estimate(name: str, y: np.ndarray, scores: np.ndarray, threshold: float, resamples: int,
             confidence: float, seed: int) -> Estimate:
    samples = bootstrap_samples(name, y, [scores], threshold, resamples, seed)[0]
    return Estimate(metrics.compute(name, y, scores, threshold), _interval(samples, confidence))


def paired(name: str, y: np.ndarray, candidate: np.ndarray, baseline: np.ndarray,
           threshold: float, resamples: int, confidence: float, seed: int) -> PairedEstimate:
    """Candidate and baseline scored on identical resamples of the same rows."""
    cand, base = bootstrap_samples(name, y, [candidate, baseline], threshold, resamples, seed)
    value_c = metrics.compute(name, y, candidate, threshold)
    value_b = metrics.compute(name, y, baseline, threshold)
    return PairedEstimate(
        Estimate(value_c, _interval(cand, confidence)),
        Estimate(value_b, _interval(base, confidence)),
        Estimate(value_c - value_b, _interval(cand - base, confidence)),
    )
