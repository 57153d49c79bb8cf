"""The fixed-horizon helpers of harness.stats.two_sample against scipy directly, and the
Hodges-Lehmann shift and its interval against brute force over all pairwise differences."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from harness.errors import StatisticsInputError
from harness.stats import two_sample
from harness.stats.two_sample import hodges_lehmann_shift, ks_two_sample, mann_whitney


def _samples(seed: int, n: int, m: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.lognormal(3.0, 0.5, n), rng.lognormal(3.1, 0.6, m)
    # Latency in whole milliseconds ties a lot.
    return (np.round(a), np.round(b)) if ties else (a, b)


@pytest.mark.parametrize("seed, n, m, ties", [(1, 40, 55, False), (2, 300, 200, True),
                                               (3, 1, 7, False), (4, 900, 1100, False)])
def test_ks_and_mann_whitney_are_scipys(seed: int, n: int, m: int, ties: bool) -> None:
    a, b = _samples(seed, n, m, ties)
    ks = ks_two_sample(a, b)
    expected = stats.ks_2samp(a, b)
    assert (ks.statistic, ks.p_value) == (expected.statistic, expected.pvalue)
    assert (ks.n_candidate, ks.n_baseline) == (n, m)
    mw = mann_whitney(a, b)
    expected = stats.mannwhitneyu(a, b, alternative="two-sided")
    assert (mw.u, mw.p_value) == (expected.statistic, expected.pvalue)


@pytest.mark.parametrize("seed, n, m, ties", [(5, 1, 1, False), (6, 2, 3, True),
                                               (7, 101, 77, False), (8, 400, 400, True),
                                               (9, 1500, 1300, False)])
def test_the_shift_and_its_interval_are_the_pairwise_differences_order_statistics(
        seed: int, n: int, m: int, ties: bool) -> None:
    a, b = _samples(seed, n, m, ties)
    differences = np.sort(np.subtract.outer(a, b).ravel())
    assert hodges_lehmann_shift(a, b) == pytest.approx(np.median(differences), abs=1e-9)
    result = mann_whitney(a, b, confidence=0.9)
    k = math.floor(n * m / 2 - stats.norm.ppf(0.95) * math.sqrt(n * m * (n + m + 1) / 12))
    if k >= 1:
        assert result.shift_low == pytest.approx(differences[k - 1], abs=1e-9)
        assert result.shift_high == pytest.approx(differences[n * m - k], abs=1e-9)
    else:
        assert (result.shift_low, result.shift_high) == (-math.inf, math.inf)


def test_the_selection_lists_only_a_few_differences_at_a_time(monkeypatch) -> None:
    # A small listing limit makes the bisection do the work, ties included.
    monkeypatch.setattr(two_sample, "_LISTABLE", 10)
    rng = np.random.default_rng(11)
    for _ in range(100):
        a = rng.integers(0, 6, rng.integers(1, 50)).astype(float)
        b = rng.integers(0, 6, rng.integers(1, 50)).astype(float) * 0.5
        if rng.random() < 0.5:
            a = a + rng.normal(0, 1, len(a))
        assert hodges_lehmann_shift(a, b) == pytest.approx(
            np.median(np.subtract.outer(a, b)), abs=1e-12)


def test_the_interval_covers_a_known_shift() -> None:
    # Lehmann's interval under a pure shift: coverage by simulation.
    rng = np.random.default_rng(12)
    covered = 0
    for _ in range(300):
        base = rng.exponential(20.0, 60)
        cand = rng.exponential(20.0, 50) + 5.0
        result = mann_whitney(cand, base, confidence=0.95)
        covered += result.shift_low <= 5.0 <= result.shift_high
    assert 0.92 <= covered / 300 <= 0.98


@pytest.mark.parametrize("call, message", [
    (lambda: ks_two_sample([], [1.0]), "non-empty"),
    (lambda: mann_whitney([1.0, float("inf")], [1.0]), "not a finite number"),
    (lambda: mann_whitney([1.0], [2.0], confidence=1.0), "confidence"),
])
def test_bad_samples_are_one_clear_error(call, message: str) -> None:
    with pytest.raises(StatisticsInputError, match=message):
        call()


def test_the_binomial_tail_is_scipys_and_refuses_impossible_counts() -> None:
    from harness.stats.two_sample import binomial_at_most

    assert binomial_at_most(3, 10, 0.5) == pytest.approx(stats.binom.cdf(3, 10, 0.5))
    assert binomial_at_most(10, 10, 0.5) == pytest.approx(1.0)
    with pytest.raises(StatisticsInputError, match="successes <= trials"):
        binomial_at_most(11, 10, 0.5)
