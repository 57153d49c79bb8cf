"""Paired bootstrap confidence intervals for any metric, vectorised over resamples.

Resamples are drawn a block at a time as a (block, rows) array of row numbers, and a
metric (a ``RowMetric``, which each kind gives for its metrics: ``Kind.row_metric``) is
computed for the whole block with array operations. Candidate and baseline are scored on
identical resamples: the interval of their difference is paired, which is what makes a
small regression on a thousand golden rows visible through the noise.

A metric may give ``strata`` (a binary classifier's labels): rows are then drawn within each
stratum, so every resample keeps the golden set's count of positives and of negatives, as
pROC's stratified bootstrap does. Without it, a resample of a set with few positives may
hold none, and ROC AUC is undefined there. Such degenerate resamples are counted, never
dropped silently: past ``MAX_DEGENERATE`` of them the interval is undefined.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from harness.stats.estimates import Estimate, Interval, PairedEstimate

# Row numbers per block: big enough to amortise numpy calls, small enough for memory.
_BLOCK_ELEMENTS = 4_000_000

# A (block, rows) array of drawn row numbers -> the metric of each resample, shape (block,).
Resampled = Callable[[np.ndarray], np.ndarray]

# The share of resamples on which a metric may be undefined before its interval is refused:
# dropping them conditions the interval on resamples unlike the data, which biases it.
MAX_DEGENERATE = 0.01


@dataclass(frozen=True)
class RowMetric:
    """One metric of one score vector: its value on all ``rows`` rows, and its value on
    each resample of them."""

    value: float
    resampled: Resampled
    rows: int
    # Each row's stratum (a binary label): resamples are drawn within strata. None: from all.
    strata: np.ndarray | None = None

    @classmethod
    def from_resampled(cls, resampled: Resampled, rows: int) -> RowMetric:
        """A metric whose value on all rows is its value on the one "resample" that holds
        every row once, so the figure and its interval come from the same code."""
        every_row = np.arange(rows, dtype=np.intp)[None, :]
        return cls(float(resampled(every_row)[0]), resampled, rows)


def resample_rows(n: int, resamples: int, seed: int,
                  strata: np.ndarray | None = None) -> Iterator[np.ndarray]:
    """Blocks of bootstrap resamples, shape (block, n): the row numbers each one drew
    (within each stratum, when ``strata`` is given)."""
    rng = np.random.default_rng(seed)
    block = max(1, min(resamples, _BLOCK_ELEMENTS // max(n, 1)))
    groups = ([np.flatnonzero(strata == value).astype(np.intp) for value in np.unique(strata)]
              if strata is not None else None)
    done = 0
    while done < resamples:
        size = min(block, resamples - done)
        # intp row numbers: np.take then indexes without converting them first.
        if groups is None:
            yield rng.integers(0, n, size=(size, n), dtype=np.intp)
        else:
            yield np.concatenate([members[rng.integers(0, len(members), size=(size, len(members)),
                                                       dtype=np.intp)]
                                  for members in groups], axis=1)
        done += size


def _estimate(value: float, samples: np.ndarray, confidence: float) -> Estimate:
    """The percentile interval of ``samples``; undefined when more than MAX_DEGENERATE of
    them are (the count is kept either way)."""
    alpha = (1 - confidence) / 2
    finite = samples[np.isfinite(samples)]
    degenerate = int(samples.size - finite.size)
    if finite.size == 0 or degenerate > MAX_DEGENERATE * samples.size:
        return Estimate(value, Interval(float("nan"), float("nan")), degenerate=degenerate)
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return Estimate(value, Interval(float(low), float(high)), degenerate=degenerate)


def samples(metrics: Sequence[RowMetric], resamples: int, seed: int) -> np.ndarray:
    """Each metric on the same resamples of their rows: shape (len(metrics), resamples)."""
    rows = {m.rows for m in metrics}
    if len(rows) != 1:
        raise ValueError(f"paired metrics need the same rows; these have {sorted(rows)}")
    strata = metrics[0].strata  # paired metrics share their labels
    blocks = [np.stack([m.resampled(drawn) for m in metrics])
              for drawn in resample_rows(rows.pop(), resamples, seed, strata)]
    return np.concatenate(blocks, axis=1)


def estimate(metric: RowMetric, resamples: int, confidence: float, seed: int) -> Estimate:
    """The metric's value on all rows and its bootstrap interval."""
    drawn = samples([metric], resamples, seed)[0]
    return _estimate(metric.value, drawn, confidence)


def paired(candidate: RowMetric, baseline: RowMetric, resamples: int, confidence: float,
           seed: int) -> PairedEstimate:
    """Candidate and baseline scored on identical resamples of the same rows."""
    cand, base = samples([candidate, baseline], resamples, seed)
    return PairedEstimate(
        _estimate(candidate.value, cand, confidence),
        _estimate(baseline.value, base, confidence),
        _estimate(candidate.value - baseline.value, cand - base, confidence),
    )
