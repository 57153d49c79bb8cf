"""Paired bootstrap confidence intervals for any metric, vectorised over resamples.

Resamples are drawn a block at a time as a (block, rows) array of row numbers, and a
metric (a ``RowMetric``, which each kind gives for its metrics: ``Kind.row_metric``) is
computed for the whole block with array operations. Candidate and baseline are scored on
identical resamples: the interval of their difference is paired, which is what makes a
small regression on a thousand golden rows visible through the noise.
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


@dataclass(frozen=True)
class RowMetric:
    """One metric of one score vector: its value on all ``rows`` rows, and its value on
    each resample of them."""

    value: float
    resampled: Resampled
    rows: int

    @classmethod
    def from_resampled(cls, resampled: Resampled, rows: int) -> RowMetric:
        """A metric whose value on all rows is its value on the one "resample" that holds
        every row once, so the figure and its interval come from the same code."""
        every_row = np.arange(rows, dtype=np.intp)[None, :]
        return cls(float(resampled(every_row)[0]), resampled, rows)


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


def _interval(samples: np.ndarray, confidence: float) -> Interval:
    alpha = (1 - confidence) / 2
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return Interval(float("nan"), float("nan"))
    low, high = np.quantile(finite, [alpha, 1 - alpha])
    return Interval(float(low), float(high))


def samples(metrics: Sequence[RowMetric], resamples: int, seed: int) -> np.ndarray:
    """Each metric on the same resamples of their rows: shape (len(metrics), resamples)."""
    rows = {m.rows for m in metrics}
    if len(rows) != 1:
        raise ValueError(f"paired metrics need the same rows; these have {sorted(rows)}")
    blocks = [np.stack([m.resampled(drawn) for m in metrics])
              for drawn in resample_rows(rows.pop(), resamples, seed)]
    return np.concatenate(blocks, axis=1)


def estimate(metric: RowMetric, resamples: int, confidence: float, seed: int) -> Estimate:
    """The metric's value on all rows and its bootstrap interval."""
    drawn = samples([metric], resamples, seed)[0]
    return Estimate(metric.value, _interval(drawn, confidence))


def paired(candidate: RowMetric, baseline: RowMetric, resamples: int, confidence: float,
           seed: int) -> PairedEstimate:
    """Candidate and baseline scored on identical resamples of the same rows."""
    cand, base = samples([candidate, baseline], resamples, seed)
    return PairedEstimate(
        Estimate(candidate.value, _interval(cand, confidence)),
        Estimate(baseline.value, _interval(base, confidence)),
        Estimate(candidate.value - baseline.value, _interval(cand - base, confidence)),
    )
