"""The anytime-valid tests of harness.stats.sequential: their time-uniform error rate by
simulation (seeded), their decisions on constructed streams, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness.errors import HarnessError, StatisticsInputError
from harness.stats.sequential import (
    Arm,
    DisagreementTest,
    FlipCounts,
    Outcome,
    PairedDifferenceTest,
    TwoArmTest,
    batches_for_share,
    split_alpha,
)

ALPHA = 0.05


def _ever_decided(streams: np.ndarray, make) -> float:
    """The share of streams on which a fresh test reached any decision."""
    return float(np.mean([make().update_many(stream).outcome is not Outcome.CONTINUE
                          for stream in streams]))


def _allowed(rate: float, streams: int) -> float:
    # The nominal rate plus three Monte-Carlo standard errors: a true rate above the
    # nominal one by that much fails this test about once in a thousand runs.
    return rate + 3 * math.sqrt(rate * (1 - rate) / streams)


@pytest.mark.parametrize("p", [0.01, 0.3])
def test_the_rate_sequence_covers_the_true_rate_at_every_time(p: float) -> None:
    # With the tolerance at the true rate, any decision (PASS or FAIL) is the 1 - 2 alpha
    # sequence excluding the truth at some time: time-uniform miscoverage.
    rng = np.random.default_rng(27)
    streams = rng.random((400, 1500)) < p
    miss = _ever_decided(streams, lambda: DisagreementTest(tolerance=p, alpha=ALPHA))
    assert miss <= _allowed(2 * ALPHA, 400), miss


@pytest.mark.parametrize("values, weights", [
    ((-0.1, 0.9), (0.9, 0.1)),  # skewed: rare large gains, frequent small losses
    ((-1.0, 0.0, 1.0), (0.25, 0.5, 0.25)),  # the widest spread the bounds allow
    (tuple(np.round(np.linspace(-0.3, 0.3, 61), 2)), None),  # many small differences
])
def test_the_difference_sequence_covers_a_zero_mean_at_every_time(values, weights) -> None:
    # At margin 0 the two FAIL capitals are those at the truth, 0: a FAIL at any time is
    # the 1 - alpha sequence excluding it (a PASS cannot happen).
    rng = np.random.default_rng(28)
    p = None if weights is None else np.asarray(weights)
    streams = rng.choice(np.asarray(values), size=(300, 1000), p=p)
    assert abs(float(np.average(values, weights=p))) < 1e-12
    miss = _ever_decided(streams, lambda: PairedDifferenceTest(margin=0.0, alpha=ALPHA))
    assert miss <= _allowed(ALPHA, 300), miss


def test_two_equal_arms_are_rarely_told_apart_at_any_time() -> None:
    rng = np.random.default_rng(10)
    decided = 0
    runs = 200
    for _ in range(runs):
        arms = np.where(rng.random(3000) < 0.1, "canary", "stable")
        answers = (rng.random(3000) < 0.75).astype(float)
        test = TwoArmTest(margin=0.0, alpha=ALPHA, canary_batch=1, stable_batch=9)
        decided += test.update_many(list(arms), answers).outcome is Outcome.FAIL
    assert decided / runs <= _allowed(ALPHA, runs)


def test_no_disagreement_passes_but_not_before_any_valid_test_could() -> None:
    # After n agreements the largest possible evidence against a rate of 1 % is
    # 0.99^-n, which passes 1/alpha = 20 only from n = 299 on.
    decision = DisagreementTest(tolerance=0.01, alpha=ALPHA).update_many(np.zeros(2000))
    assert decision.outcome is Outcome.PASS
    assert 299 <= decision.n <= 800
    assert decision.high <= 0.01 and decision.low == 0.0 and decision.estimate == 0.0
    assert decision.statistic >= 1 / ALPHA and decision.needed_more is None


def test_constant_disagreement_fails_at_once_and_stays_failed() -> None:
    test = DisagreementTest(tolerance=0.01, alpha=ALPHA)
    decision = test.update_many(np.ones(50))
    assert decision.outcome is Outcome.FAIL and decision.n <= 3
    assert decision.low >= 0.01 and decision.high == 1.0
    # A stopped test stays stopped: what comes after changes nothing.
    assert test.update_many(np.zeros(5000)) == decision


def test_a_window_that_ends_undecided_is_continue_and_says_how_much_more() -> None:
    test = DisagreementTest(tolerance=0.01, alpha=ALPHA)
    decision = test.update_many(np.zeros(100))
    assert decision.outcome is Outcome.CONTINUE and decision.needed_more is not None
    assert decision.low == 0.0 and decision.high > 0.01
    # Observations like those so far decide within the stated number.
    final = test.update_many(np.zeros(decision.needed_more))
    assert final.outcome is Outcome.PASS


def test_a_rate_on_the_tolerance_gives_no_decision_to_expect() -> None:
    stream = np.zeros(200)
    stream[::10] = 1  # exactly 10 %, the tolerance
    decision = DisagreementTest(tolerance=0.1, alpha=ALPHA).update_many(stream)
    assert decision.outcome is Outcome.CONTINUE and decision.needed_more is None


def test_flips_are_counted_in_each_direction() -> None:
    test = DisagreementTest(tolerance=0.2)
    production = [True, True, False, False, True, False]
    candidate = [False, True, True, False, False, False]
    decision = test.update_pairs(production, candidate)
    assert test.flips == FlipCounts(approve_to_reject=2, reject_to_approve=1, agree=3)
    assert decision.n == 6 and decision.estimate == pytest.approx(0.5)
    test.update_pair(False, True)
    assert test.flips.reject_to_approve == 2 and test.flips.total == 7


@pytest.mark.parametrize("shift, outcome", [(0.0, Outcome.PASS), (0.3, Outcome.FAIL),
                                            (-0.3, Outcome.FAIL)])
def test_paired_differences_pass_inside_and_fail_outside_the_margin(shift, outcome) -> None:
    rng = np.random.default_rng(3)
    differences = np.clip(shift + rng.normal(0, 0.05, 3000), -1, 1)
    decision = PairedDifferenceTest(margin=0.02, alpha=ALPHA).update_many(differences)
    assert decision.outcome is outcome
    assert decision.low <= decision.estimate <= decision.high
    if outcome is Outcome.PASS:
        assert -0.02 <= decision.low and decision.high <= 0.02
    else:
        # The margin itself is rejected: the interval ends on it at most.
        assert decision.low >= 0.02 or decision.high <= -0.02
        assert decision.n < 50  # grossly different: a few dozen pairs at most


def test_a_surely_different_difference_fails_even_inside_a_wider_pass_margin() -> None:
    decision = PairedDifferenceTest(margin=0.0, pass_margin=0.06).update_many(np.full(500, 0.05))
    assert decision.outcome is Outcome.FAIL and decision.low > 0


def test_two_arms_pair_batches_in_arrival_order() -> None:
    test = TwoArmTest(margin=0.0, pass_margin=0.05, canary_batch=1, stable_batch=3)
    decision = test.update_many(["stable", "stable", "canary", "stable"], [1, 0, 1, 0.5])
    assert decision.n == 1 and decision.estimate == pytest.approx(1 - 0.5)
    assert test.seen == {Arm.CANARY: 1, Arm.STABLE: 3}
    test.update(Arm.CANARY, 0.0)  # waits for its stable batch
    assert test.decision().n == 1


@pytest.mark.parametrize("canary, outcome", [(0.75, Outcome.PASS), (1.0, Outcome.FAIL)])
def test_two_arms_decide_on_constructed_streams(canary: float, outcome: Outcome) -> None:
    arms = ["canary", "stable"] * 3000
    answers = [canary, 0.75] * 3000
    decision = TwoArmTest(margin=0.0, pass_margin=0.05).update_many(arms, answers)
    assert decision.outcome is outcome


@pytest.mark.parametrize("share, batches", [(0.1, (1, 9)), (0.5, (1, 1)), (0.25, (1, 3)),
                                            (0.9, (9, 1)), (1.0, (1, 1))])
def test_batches_follow_the_traffic_share(share: float, batches: tuple[int, int]) -> None:
    if share == 1.0:
        with pytest.raises(StatisticsInputError, match="canary_share"):
            batches_for_share(share)
    else:
        assert batches_for_share(share) == batches


def test_the_error_budget_is_split_over_steps_and_metrics() -> None:
    budget = split_alpha(0.05, steps=3, metrics=4)
    assert budget.per_test == pytest.approx(0.05 / 12)


@pytest.mark.parametrize("make, message", [
    (lambda: DisagreementTest(0.01, alpha=0), "alpha must lie strictly between 0 and 1"),
    (lambda: DisagreementTest(0.01, alpha=1.5), "alpha must lie strictly between 0 and 1"),
    (lambda: DisagreementTest(0.01, alpha=float("nan")), "alpha"),
    (lambda: DisagreementTest(0.0), "tolerance must be above 0"),
    (lambda: DisagreementTest(1.0), r"tolerance must lie in \[0, 1\)"),
    (lambda: DisagreementTest(-0.1), "tolerance"),
    (lambda: PairedDifferenceTest(1.0), "margin"),
    (lambda: PairedDifferenceTest(0.1, pass_margin=0.05), "pass_margin .* at least margin"),
    (lambda: TwoArmTest(0.0, canary_batch=0), "canary_batch"),
    (lambda: split_alpha(0.05, steps=0, metrics=2), "steps"),
    (lambda: DisagreementTest(0.01).update_many([0, 1, 2]), r"must lie in \[0, 1\]; got 2"),
    (lambda: DisagreementTest(0.01).update(0.5), "must be 0 or 1"),
    (lambda: PairedDifferenceTest(0.02).update_many([0.1, float("nan")]), "nan"),
    (lambda: PairedDifferenceTest(0.02).update(-1.5), r"\[-1, 1\]"),
    (lambda: TwoArmTest(0.0).update("baseline", 1.0), "'canary' or 'stable'"),
    (lambda: TwoArmTest(0.0).update_many(["canary"], [1.0, 0.0]), "one length"),
])
def test_bad_input_is_one_clear_error(make, message: str) -> None:
    with pytest.raises(StatisticsInputError, match=message) as raised:
        make()
    assert isinstance(raised.value, HarnessError) and isinstance(raised.value, ValueError)


def test_the_interval_ends_are_rejected_by_the_exact_capital_and_tight() -> None:
    # The ends come from observations rounded outwards to 4096 levels: each must still
    # be rejected by the capital on the exact observations (the docs' formula, written
    # out here), and a little inside it must not be.
    from harness.stats.sequential import BETS

    rng = np.random.default_rng(4)
    differences = np.clip(rng.normal(0.01, 0.2, 3000), -1, 1)
    decision = PairedDifferenceTest(margin=0.0, alpha=ALPHA).update_many(differences)
    y = (differences[:decision.n] + 1) / 2  # up to the stop, if any

    def log_capital(m: float, up: bool) -> float:
        ratio = (y / m if up else (1 - y) / (1 - m)) - 1
        per_bet = np.log1p(np.outer(ratio, BETS)).sum(axis=0)
        return float(np.log(np.mean(np.exp(per_bet - per_bet.max()))) + per_bet.max())

    threshold = math.log(2 / ALPHA)
    low, high = (decision.low + 1) / 2, (decision.high + 1) / 2
    assert log_capital(low, up=True) >= threshold > log_capital(low + 0.001, up=True)
    assert log_capital(high, up=False) >= threshold > log_capital(high - 0.001, up=False)


@pytest.mark.parametrize("tolerance", [0.001, 0.01, 0.1, 0.4])
def test_the_fail_side_weights_favour_small_multiples_of_the_tolerance(tolerance) -> None:
    from harness.stats.sequential import CAUTIOUS_BETS, weights_near

    weights = weights_near(tolerance)
    assert weights.sum() == pytest.approx(1.0) and (weights > 0).all()
    # The heaviest bet is the one nearest the best bet against three times the tolerance
    # (the largest bet, when that rate is beyond it).
    best = min(2 * tolerance / (1 - tolerance), CAUTIOUS_BETS[-1])
    nearest = np.argmin(np.abs(np.log(CAUTIOUS_BETS / best)))
    assert np.argmax(weights) == nearest


def test_a_rate_three_times_the_tolerance_fails_sooner_than_under_even_weights() -> None:
    # The weights only move power: with them, 200 seeded streams at 3 % against 1 % fail
    # sooner on average than the even mixture written out from the docs' formula.
    from harness.stats.sequential import CAUTIOUS_BETS

    rng = np.random.default_rng(31)
    streams = (rng.random((200, 3000)) < 0.03).astype(float)
    weighted = [DisagreementTest(0.01, ALPHA).update_many(s).n for s in streams]
    ones = np.cumsum(streams, axis=1)[:, :, None]
    n = np.arange(1, 3001)[None, :, None]
    log_capital = ones * np.log1p(CAUTIOUS_BETS * 99) + (n - ones) * np.log1p(-CAUTIOUS_BETS)
    top = log_capital.max(axis=2)
    even = top + np.log(np.exp(log_capital - top[:, :, None]).mean(axis=2))
    crossed = even >= math.log(1 / ALPHA)
    assert crossed.any(axis=1).all()
    even_stops = crossed.argmax(axis=1) + 1
    assert np.mean(weighted) < 0.95 * np.mean(even_stops)
