"""Analytic intervals: DeLong as its definition gives it, the same values as scikit-learn,
and bounds that agree with the bootstrap's on the same data."""

from __future__ import annotations

import numpy as np
import pytest

from harness.config import BootstrapSpec, IntervalSpec
from harness.gates import intervals
from harness.kinds import BINARY
from harness.kinds.metrics import binary as metrics
from harness.stats import analytic, bootstrap

# Average precision has no analytic interval: the bootstrap gives it (intervals.py).
NAMES = [n for n in BINARY.metric_names if n not in analytic.BOOTSTRAP_ONLY]


def _models(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels, and two correlated models' scores with ties, as two retrains would give."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    shared = rng.normal(0, 1, rows)
    base = 1 / (1 + np.exp(-(1.2 * y - 0.6 + shared)))
    cand = 1 / (1 + np.exp(-(1.1 * y - 0.55 + shared + rng.normal(0, 0.3, rows))))
    return y, cand.round(3), base.round(3)


def _delong_by_definition(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The variance of AUC(a) - AUC(b) from DeLong's paper, with the full pair matrix."""
    def components(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos, neg = s[y == 1], s[y == 0]
        psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
        return psi.mean(axis=1), psi.mean(axis=0)

    (a10, a01), (b10, b01) = components(a), components(b)
    return (np.var(a10 - b10, ddof=1) / len(a10)) + (np.var(a01 - b01, ddof=1) / len(a01))


def test_delong_variance_matches_its_definition() -> None:
    y, cand, base = _models(400, 0)
    paired = analytic.paired("roc_auc", y, cand, base, 0.5, 0.95)
    half = (paired.difference.interval.high - paired.difference.interval.low) / 2
    expected = 1.959963984540054 * np.sqrt(_delong_by_definition(y, cand, base))
    assert half == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_values_are_those_of_scikit_learn(name: str) -> None:
    y, cand, _ = _models(3000, 1)
    assert analytic.estimate(name, y, cand, 0.5, 0.95).value == pytest.approx(
        metrics.compute(name, y, cand, 0.5), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_both_methods_agree_within_a_tenth_of_the_width(name: str) -> None:
    y, cand, base = _models(20_000, 2)
    fast = analytic.paired(name, y, cand, base, 0.5, 0.95)
    slow = bootstrap.paired(metrics.row_metric(name, y, cand, 0.5),
                            metrics.row_metric(name, y, base, 0.5), 2000, 0.95, 0)
    for a, b in ((fast.candidate, slow.candidate), (fast.difference, slow.difference)):
        width = b.interval.high - b.interval.low
        assert width > 0
        assert abs(a.interval.low - b.interval.low) <= 0.1 * width, (a, b)
        assert abs(a.interval.high - b.interval.high) <= 0.1 * width, (a, b)


def test_identical_models_differ_by_exactly_nothing() -> None:
    y, cand, _ = _models(2000, 3)
    for name in NAMES:
        difference = analytic.paired(name, y, cand, cand.copy(), 0.5, 0.95).difference
        if name == "recall":  # Agresti-Min: one half per cell keeps a little width
            low, high = difference.interval.low, difference.interval.high
            assert difference.value == 0 and low == pytest.approx(-high) and 0 < high < 0.01
            continue
        assert (difference.value, difference.interval.low, difference.interval.high) == (0, 0, 0)


def test_the_recall_difference_is_agresti_min_for_matched_proportions() -> None:
    # 20 positives: the candidate alone finds 3, the baseline alone 1, both 10, neither 6.
    y = np.r_[np.ones(20), np.zeros(5)]
    cand = np.r_[np.ones(3), np.zeros(1), np.ones(10), np.zeros(6), np.zeros(5)]
    base = np.r_[np.zeros(3), np.ones(1), np.ones(10), np.zeros(6), np.zeros(5)]
    difference = analytic.paired("recall", y, cand, base, 0.5, 0.95).difference
    assert difference.value == pytest.approx(13 / 20 - 11 / 20)
    # (3.5 - 1.5) / 22 = 0.0909, variance ((5 / 22) - 0.0909^2) / 22
    centre, se = 2 / 22, np.sqrt((5 / 22 - (2 / 22) ** 2) / 22)
    assert difference.interval.low == pytest.approx(centre - 1.959964 * se, abs=1e-6)
    assert difference.interval.high == pytest.approx(centre + 1.959964 * se, abs=1e-6)
    # Two models that never disagree on a positive still get an interval of some width.
    same = analytic.paired("recall", y, cand, cand, 0.5, 0.95).difference
    assert same.interval.high - same.interval.low > 0.05


def test_one_class_only_is_undefined_not_an_error() -> None:
    y = np.zeros(100, dtype=int)
    estimate = analytic.estimate("roc_auc", y, np.linspace(0, 1, 100), 0.5, 0.95)
    assert np.isnan(estimate.value) and np.isnan(estimate.interval.low)


def test_auto_uses_the_bootstrap_on_few_rows_and_says_which() -> None:
    y, cand, base = _models(1200, 4)
    spec = IntervalSpec(method="auto", analytic_min_rows=1000)
    settings = BootstrapSpec(resamples=200)
    assert intervals.estimate(BINARY, "brier", y, cand, 0.5, spec, settings).method == "analytic"
    assert intervals.estimate(BINARY, "brier", y[:999], cand[:999], 0.5, spec,
                              settings).method == "bootstrap"
    forced = IntervalSpec(method="bootstrap", analytic_min_rows=1)
    assert intervals.paired(BINARY, "roc_auc", y, cand, base, 0.5, forced,
                            settings).method == "bootstrap"



def test_auto_uses_the_analytic_interval_on_few_positives() -> None:
    # 40 positives in 1,200 rows: under auto the percentile bootstrap would cover short.
    y, cand, base = _models(1200, 5)
    y = np.zeros_like(y)
    y[:40] = 1
    settings = BootstrapSpec(resamples=200)
    auto = IntervalSpec()
    assert intervals.paired(BINARY, "roc_auc", y, cand, base, 0.5, auto,
                            settings).method == "analytic"
    assert intervals.paired(BINARY, "roc_auc", y, cand, base, 0.5,
                            IntervalSpec(bootstrap_min_positives=40), settings).method == "bootstrap"
