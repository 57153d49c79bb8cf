"""Fixed-horizon two-sample tests for the end of a shadow or canary window: the score
distributions (two-sample Kolmogorov-Smirnov) and latency (Mann-Whitney U with the
Hodges-Lehmann shift and its distribution-free interval), as Kayenta judges a canary, for
comparison with the anytime-valid tests of ``harness.stats.sequential``.

These are valid once, at a horizon fixed in advance (the window's end), not at every look.
So is ``binomial_at_most``, the exact binomial tail that tells a mirror sampling a share of
the requests from a shadow that loses some.

The Hodges-Lehmann shift is the median of all n x m differences candidate - baseline. It
is found without forming them: both samples sorted, the k-th smallest difference is
bracketed by bisection on its value, each step counting the differences below a value with
one ``searchsorted`` (O(n log m)), until the bracket holds few enough differences to list
and select from. Its interval is Lehmann's (1963): the differences of ranks k and nm - k + 1,
k from the normal approximation of U's null distribution (no tie correction).

Pure: numpy and scipy; callers import it lazily.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

from harness.errors import StatisticsInputError

_LISTABLE = 200_000  # differences listed at once in the last step of a selection


@dataclass(frozen=True)
class KolmogorovSmirnov:
    """The two-sample KS statistic (the largest gap between the empirical CDFs)."""

    statistic: float
    p_value: float
    n_candidate: int
    n_baseline: int


@dataclass(frozen=True)
class MannWhitney:
    """U of the candidate's sample against the baseline's (two-sided), and the
    Hodges-Lehmann shift candidate - baseline with its interval at ``confidence``."""

    u: float
    p_value: float
    shift: float
    shift_low: float
    shift_high: float
    confidence: float
    n_candidate: int
    n_baseline: int


def _sample(values: Sequence[float] | np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1 or len(array) == 0:
        raise StatisticsInputError(f"{what} must be a non-empty flat sequence of numbers")
    if not np.isfinite(array).all():
        raise StatisticsInputError(f"{what} holds a value that is not a finite number")
    return array


def ks_two_sample(candidate: Sequence[float] | np.ndarray,
                  baseline: Sequence[float] | np.ndarray) -> KolmogorovSmirnov:
    """Two-sided two-sample Kolmogorov-Smirnov test (``scipy.stats.ks_2samp``)."""
    a, b = _sample(candidate, "the candidate's sample"), _sample(baseline, "the baseline's")
    result = stats.ks_2samp(a, b)
    return KolmogorovSmirnov(float(result.statistic), float(result.pvalue), len(a), len(b))


def _count_at_most(a: np.ndarray, b: np.ndarray, value: float) -> tuple[int, np.ndarray]:
    """How many a_i - b_j <= value (a, b sorted), and for each i how many b_j qualify."""
    # a_i - b_j <= v  <=>  b_j >= a_i - v
    starts = np.searchsorted(b, a - value, side="left")
    return int((len(b) - starts).sum()), starts


def kth_pairwise_difference(a: np.ndarray, b: np.ndarray, k: int) -> float:
    """The k-th smallest (1-based) of the differences a_i - b_j, for a and b sorted."""
    total = len(a) * len(b)
    if not 1 <= k <= total:
        raise StatisticsInputError(f"rank {k} is outside 1..{total}")
    low, high = float(a[0] - b[-1]), float(a[-1] - b[0])  # count(<= high) = total
    count_low, starts_low = _count_at_most(a, b, low)
    if count_low >= k:
        return low
    count_high, starts_high = total, np.zeros(len(a), dtype=int)
    # Invariant: count(<= low) < k <= count(<= high); the answer lies in (low, high].
    while count_high - count_low > max(_LISTABLE, len(a)):
        middle = low + (high - low) / 2
        if middle <= low or middle >= high:
            # No number lies between: the many differences left are all equal but for
            # rounding (ties, as integer latencies make). Answer with one of them, as
            # computed, not with the bracket's end.
            rows = np.flatnonzero(starts_low > starts_high)
            return float((a[rows] - b[starts_high[rows]]).max())
        count, starts = _count_at_most(a, b, middle)
        if count >= k:
            high, count_high, starts_high = middle, count, starts
        else:
            low, count_low, starts_low = middle, count, starts
    # List the differences in (low, high]: for a_i, the b_j with index in
    # [starts_high[i], starts_low[i]).
    rows = np.repeat(np.arange(len(a)), starts_low - starts_high)
    offsets = np.arange(len(rows)) - np.repeat(np.cumsum(starts_low - starts_high)
                                               - (starts_low - starts_high),
                                               starts_low - starts_high)
    columns = np.repeat(starts_high, starts_low - starts_high) + offsets
    listed = a[rows] - b[columns]
    return float(np.partition(listed, k - count_low - 1)[k - count_low - 1])


def hodges_lehmann_shift(candidate: Sequence[float] | np.ndarray,
                         baseline: Sequence[float] | np.ndarray) -> float:
    """The median of all differences candidate_i - baseline_j."""
    a = np.sort(_sample(candidate, "the candidate's sample"))
    b = np.sort(_sample(baseline, "the baseline's sample"))
    total = len(a) * len(b)
    if total % 2:
        return kth_pairwise_difference(a, b, (total + 1) // 2)
    return (kth_pairwise_difference(a, b, total // 2)
            + kth_pairwise_difference(a, b, total // 2 + 1)) / 2


def mann_whitney(candidate: Sequence[float] | np.ndarray,
                 baseline: Sequence[float] | np.ndarray,
                 confidence: float = 0.95) -> MannWhitney:
    """Two-sided Mann-Whitney U (``scipy.stats.mannwhitneyu``) with the Hodges-Lehmann
    shift candidate - baseline and Lehmann's interval for it at ``confidence``."""
    if not (isinstance(confidence, (int, float)) and 0 < confidence < 1):
        raise StatisticsInputError(
            f"confidence must lie strictly between 0 and 1, got {confidence!r}",
            key="confidence")
    a = np.sort(_sample(candidate, "the candidate's sample"))
    b = np.sort(_sample(baseline, "the baseline's sample"))
    result = stats.mannwhitneyu(a, b, alternative="two-sided")
    n, m = len(a), len(b)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    k = math.floor(n * m / 2 - z * math.sqrt(n * m * (n + m + 1) / 12))
    if k >= 1:
        low = kth_pairwise_difference(a, b, k)
        high = kth_pairwise_difference(a, b, n * m - k + 1)
    else:  # too few observations for an interval at this confidence
        low, high = -math.inf, math.inf
    return MannWhitney(u=float(result.statistic), p_value=float(result.pvalue),
                       shift=hodges_lehmann_shift(a, b), shift_low=low, shift_high=high,
                       confidence=float(confidence), n_candidate=n, n_baseline=m)


def binomial_at_most(successes: int, trials: int, p: float) -> float:
    """P(X <= ``successes``) for X ~ Binomial(``trials``, ``p``): the exact one-sided p-value
    of "fewer successes than ``p`` gives" (a shadow's mirrored share below its percent)."""
    if not (0 <= successes <= trials and 0 <= p <= 1):
        raise StatisticsInputError(
            f"a binomial count needs 0 <= successes <= trials and p in [0, 1], got "
            f"{successes}, {trials}, {p}")
    return float(stats.binom.cdf(successes, trials, p))
