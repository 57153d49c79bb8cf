"""Anytime-valid sequential tests for shadow and canary releases: look after every request,
stop as soon as the evidence is enough, either way, with the false-stop rate held at alpha.

**Method: a betting confidence sequence** (Waudby-Smith and Ramdas 2023, "Estimating means
of bounded random variables by betting", JRSS-B). Every test here is about the mean of
bounded observations (a disagreement indicator in {0, 1}, a paired score difference in
[-1, 1], a canary-minus-stable difference of batch means in [-1, 1]), rescaled to [0, 1].
Against each candidate mean m a gambler bets on the next observation; their capital

    K+(m) = mean over j of  prod_i (1 + k_j (y_i / m - 1))              (evidence mean > m)
    K-(m) = mean over j of  prod_i (1 + k_j ((1 - y_i) / (1 - m) - 1))  (evidence mean < m)

is a nonnegative supermartingale whenever the true mean is at most m (at least m, for K-),
for *any* distribution on [0, 1]. Ville's inequality then bounds the chance it ever
reaches 1/a by a, at any time, however often it is looked at: that is the whole proof, and
it is exact (non-asymptotic): no normal approximation, no minimum sample size. The set of
m that neither capital has rejected is the confidence sequence.

Why this rather than the alternatives:

- An mSPRT with a normal mixture (Johari et al. 2017) is asymptotic: its error rate holds
  as the normal approximation does, which is poor exactly here, for rare disagreements at
  a 1 % tolerance. The betting capital is exact for bounded data at no cost in power.
- Howard et al.'s (2021) closed-form boundaries (empirical Bernstein, beta-binomial) are
  exact too, but either do not adapt to a small variance (score differences are small) or
  hold for Bernoulli data only; betting does both.
- The bets are a fixed mixture over fractions k_j of the largest safe bet (1/m, or
  1/(1-m)), the "diversified" betting of Waudby-Smith and Ramdas (``BETS``). Each bet
  makes K+(m) nonincreasing in m and K-(m) nondecreasing, so the sequence is an interval
  and a test at a tolerance agrees with the interval shown beside it. The price of the
  mixture is log(1/weight) of its best bet in log capital: log(number of bets) when the
  weights are even. Against a plug-in (predictable) bet size, the even mixture stopped a
  3 % disagreement rate at a 1 % tolerance after about 400 requests on average rather
  than 490 to 560 (at alpha 0.025 a side): rare events are where second-order
  (variance-based) bet sizes underbet.
- The bets that a rate is above its tolerance stop at half the largest
  (``CAUTIOUS_BETS``: against m = 1 %, a rate near 50 %), so that no single request
  decides: with the largest ones, one disagreement on the very first request FAILed a
  candidate (valid, at most alpha of the time, but no way to judge one).
- Those bets are weighted toward the rates that matter near a small tolerance
  (``weights_near``: log-normal in the bet, centred on the best bet against three times
  the tolerance). Evenly weighted, their price (log 12 = 2.5) was close to the threshold
  itself (log 20 = 3.0). At a 1 % tolerance and alpha 0.05 the weighting took the mean
  requests to FAIL a 3 % candidate from about 320 to about 285 (simulated, 1,000 to
  2,000 streams a figure; 2 % from 1047 to 939, 5 % from 108 to 99; 10 % 32 to 33, 30 %
  7 to 8), the false FAILs staying within alpha. A mixture with any fixed weights summing
  to 1 is as valid as the even one; only power moves. A narrower one (0.7 e-fold) gains
  little more (267 at 3 %) and loses more at both ends. Wald's bound for a test told the
  alternative in advance is about 227 plus overshoot; one single bet at exactly 3 % took
  248. The alpha is not raised: at 0.1 a side the 3 % mean falls to about 240, but a
  false FAIL on the tolerance is then allowed 10 % of the time, and measured 6 to 7 %
  (benchmarks/shadow_power.py prints both).

**Decisions.** A test at a tolerance (the disagreement rate) FAILs when K+(tolerance)
reaches 1/alpha (the rate is surely above it) and PASSes when K-(tolerance) does (surely
below): two one-sided tests at alpha each, as an equivalence test's two one-sided tests
are, so a false FAIL (the true rate within tolerance) and a false PASS (beyond it) each
happen at most alpha of the time; the interval shown is then a 1 - 2 alpha sequence. A
test at a margin (a difference, either sign) FAILs when the interval lies wholly outside
[-margin, margin] and PASSes when it lies wholly inside [-pass_margin, pass_margin]
(``pass_margin`` defaults to ``margin``); each bound is at alpha/2, so a false FAIL happens
at most alpha of the time, and the interval is a 1 - alpha sequence. When the interval is
both wholly beyond the margin and inside a wider pass margin, FAIL wins. A test stops at
its first decision; later observations change nothing. A window that ends at CONTINUE is
inconclusive, never a pass: ``needed_more`` says how many more observations would decide
it *if the observations to come average as those so far*: the best bet of the mixture then
gains its average log-return per observation until its share of the capital (its weight
times its capital) reaches the threshold.

**Two arms (canary).** Canary and stable answers are not paired. Pairs are made in arrival
order, each from a batch of ``canary_batch`` canary and ``stable_batch`` stable answers (at
a 10 % step, 1 and 9), and the pair's value is the difference of the two batch means, in
[-1, 1], whose mean is the difference of the arms' means. The batches are disjoint, so
the pairs are independent when each arm's answers are; nothing is discarded but the
unfinished batch at the end.

**One error budget.** ``split_alpha`` divides alpha over steps x metrics (Bonferroni).
With anytime-valid tests this holds across every look: each test's chance of *ever*
falsely stopping is at most its share, so the chance that any of them ever does is at
most their sum, alpha. A fixed-horizon test repeated at every interval has no such bound.

**At the end of a window** (fixed horizon, in ``harness.stats.two_sample``): the
two-sample Kolmogorov-Smirnov test of the score distributions, and the Mann-Whitney U test
of latency with its Hodges-Lehmann shift and interval, as Kayenta judges canaries, for
comparison.

Pure: numpy and scipy, nothing of the harness but its errors; callers import it lazily.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from harness.errors import StatisticsInputError

# Bets as fractions of the largest bet that cannot lose everything on one observation:
# small ones for rare events near a small tolerance, large ones for small-variance
# differences. Geometric, so each order of magnitude of effect has its bets.
BETS = np.geomspace(0.003, 0.95, 12)
CAUTIOUS_BETS = np.geomspace(0.003, 0.5, 12)
_CHUNK = 2048  # observations per vectorised block: bounds memory at chunk x points x bets
_BISECTION_STEPS = 24  # the interval's ends to 2^-24 of the observations' range
# The interval's ends are computed from the observations rounded outwards to a grid of
# this many levels (see _Engine._counts); decisions use them unrounded.
_LEVELS = 4096
_MAX_LOG_EVALUE = 700.0  # exp() stays finite


class Outcome(str, Enum):
    """A sequential test's state: decided either way, or still looking."""

    PASS = "pass"
    FAIL = "fail"
    CONTINUE = "continue"


@dataclass(frozen=True)
class SequentialDecision:
    """Where a sequential test stands after ``n`` observations (pairs, for two arms).

    ``estimate`` is the observations' mean; [``low``, ``high``] the confidence sequence
    at that time; ``statistic`` the largest e-value (bettor's capital) against any of the
    test's hypotheses, a decision being when one reaches its threshold (1/alpha, or
    2/alpha for a margin's bounds); ``needed_more`` the observations that would decide a
    CONTINUE under the stated approximation (None when decided, or when the observations
    so far point to no decision at all)."""

    outcome: Outcome
    n: int
    estimate: float
    low: float
    high: float
    statistic: float
    needed_more: int | None


@dataclass(frozen=True)
class FlipCounts:
    """Paired decisions at the threshold: where the candidate's differs from production's,
    in each direction (they differ in cost)."""

    approve_to_reject: int
    reject_to_approve: int
    agree: int

    @property
    def total(self) -> int:
        return self.approve_to_reject + self.reject_to_approve + self.agree


def _check_alpha(alpha: float) -> float:
    if not (isinstance(alpha, (int, float)) and 0 < alpha < 1):
        raise StatisticsInputError(f"alpha must lie strictly between 0 and 1, got {alpha!r}",
                                   key="alpha")
    return float(alpha)


def _check_range(name: str, value: float, low: float, high: float) -> float:
    if not (isinstance(value, (int, float)) and low <= value < high):
        raise StatisticsInputError(
            f"{name} must lie in [{low:g}, {high:g}), got {value!r}", key=name)
    return float(value)


def _as_observations(values: Iterable[float] | float, low: float, high: float,
                     what: str) -> np.ndarray:
    if not isinstance(values, (np.ndarray, list, tuple, int, float)):
        values = list(values)  # a generator, a range
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if array.ndim != 1:
        raise StatisticsInputError(f"{what} must be a flat sequence of numbers")
    bad = ~((array >= low) & (array <= high))  # also catches NaN
    if bad.any():
        first = float(array[np.flatnonzero(bad)[0]])
        raise StatisticsInputError(
            f"{what} must lie in [{low:g}, {high:g}]; got {first!r} "
            f"({int(bad.sum())} of {len(array)} out of range)")
    return array


def _log_mixture(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """log(sum of weights x exp(values)) over the last axis (weights summing to 1),
    without overflow."""
    top = values.max(axis=-1, keepdims=True)
    return (top + np.log((np.exp(values - top) * weights).sum(axis=-1, keepdims=True)))[..., 0]


def weights_near(tolerance: float, bets: np.ndarray = CAUTIOUS_BETS) -> np.ndarray:
    """The FAIL side's weights over ``bets`` against a rate of ``tolerance``: log-normal
    in the bet, centred on the best bet against a rate three times the tolerance and
    falling to 61 % one e-fold away (to 14 % two away), summing to 1.

    Why: the mixture's price is what its best bet's share costs, log(1/weight); spread
    evenly over 12 bets that is log 12 = 2.5 in log capital, close to the threshold
    itself (log 20 = 3.0). A candidate worth stopping disagrees at a small multiple of a
    small tolerance, so the bets for those rates get most of the weight; the rest keep
    enough to stop a rate just above the tolerance (in longer windows) or a gross one.
    The best bet against m at a true rate p is (p - m) / (1 - m) of the largest."""
    centre = min(2 * tolerance / (1 - tolerance), float(bets[-1]))
    weights = np.exp(-0.5 * np.log(bets / centre) ** 2)
    return weights / weights.sum()


def _log_returns(y: np.ndarray, m: np.ndarray, up: bool, bets: np.ndarray) -> np.ndarray:
    """log(1 + k (y/m - 1)) (up) or log(1 + k ((1-y)/(1-m) - 1)) (down), shaped
    y x m x bets."""
    ratio = (y[:, None] / m[None, :] if up else (1 - y)[:, None] / (1 - m)[None, :]) - 1
    return np.log1p(ratio[:, :, None] * bets)


@dataclass(frozen=True)
class _Rule:
    """Which capitals decide: FAIL when any of ``fail_any`` crosses, PASS when all of
    ``pass_all`` have; each a (point index, up?) pair, the points (candidate means) on
    the observations' own scale."""

    points: tuple[float, ...]
    fail_any: tuple[tuple[int, bool], ...]
    pass_all: tuple[tuple[int, bool], ...]


def _even(bets: np.ndarray) -> np.ndarray:
    return np.full(len(bets), 1 / len(bets))


class _Engine:
    """The capitals of one test on observations rescaled to [0, 1], its stop, its interval."""

    def __init__(self, rule: _Rule, alpha_side: float, low: float, high: float, *,
                 up_bets: np.ndarray = BETS, down_bets: np.ndarray = BETS,
                 up_weights: np.ndarray | None = None) -> None:
        self.rule = rule
        self.bets = {True: up_bets, False: down_bets}
        # Each side's mixture weights (even unless given), summing to 1.
        self.weights = {True: _even(up_bets) if up_weights is None else up_weights,
                        False: _even(down_bets)}
        self.threshold = math.log(1 / alpha_side)
        self.low, self.high = low, high
        # The rule's points are on the observations' scale; the capitals work on [0, 1].
        self.points = (np.asarray(rule.points, dtype=float) - low) / (high - low)
        self._original = {float(m): float(p) + 0.0  # no -0.0
                          for m, p in zip(self.points, rule.points, strict=True)}
        # Only the capitals the rule reads: (point index, up?) -> log capital of each bet.
        self.capital = {process: np.zeros(len(self.bets[process[1]]))
                        for process in (*rule.fail_any, *rule.pass_all)}
        # The rescaled observations up to the stop, counted on _LEVELS levels: rounded
        # down (for K+) and up (for K-).
        self._histogram = {True: np.zeros(_LEVELS + 1), False: np.zeros(_LEVELS + 1)}
        self._decision: SequentialDecision | None = None  # at the current n
        self.n = 0
        self.total = 0.0
        self.outcome = Outcome.CONTINUE

    def add(self, x: np.ndarray) -> None:
        for start in range(0, len(x), _CHUNK):
            if self.outcome is not Outcome.CONTINUE:
                return
            self._add_block(x[start:start + _CHUNK])

    def _add_block(self, x: np.ndarray) -> None:
        y = np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        paths, crossed = {}, {}
        for process, start in self.capital.items():
            point, up = process
            returns = _log_returns(y, self.points[point:point + 1], up, self.bets[up])[:, 0]
            path = paths[process] = start + np.cumsum(returns, axis=0)  # y x bets
            # The mixture (a mean) is below its best bet: only where that bet is over
            # the threshold can the mixture be, so only there is it worth computing.
            near = np.flatnonzero(path.max(axis=1) >= self.threshold)
            crossed[process] = np.zeros(len(y), dtype=bool)
            crossed[process][near] = (_log_mixture(path[near], self.weights[up])
                                      >= self.threshold)
        fails = np.zeros(len(y), dtype=bool)
        for process in self.rule.fail_any:
            fails |= crossed[process]
        passes = np.ones(len(y), dtype=bool)
        for process in self.rule.pass_all:
            passes &= crossed[process]
        decided = np.flatnonzero(fails | passes)
        stop = int(decided[0]) if len(decided) else len(y) - 1
        if len(decided):
            self.outcome = Outcome.FAIL if fails[stop] else Outcome.PASS
        self.capital = {process: path[stop] for process, path in paths.items()}
        kept = y[:stop + 1]
        for up, rounding in ((True, np.floor), (False, np.ceil)):
            self._histogram[up] += np.bincount(rounding(kept * _LEVELS).astype(int),
                                               minlength=_LEVELS + 1)
        self._decision = None
        self.n += len(kept)
        self.total += float(x[:stop + 1].sum())

    def _counts(self, up: bool) -> tuple[np.ndarray, np.ndarray]:
        """The observations as distinct values and counts (a capital depends on nothing
        else), rounded to _LEVELS levels towards less evidence: down for K+, up for K-
        (each factor of K+ grows with y, each of K- shrinks). A capital computed from
        them is at most the exact one, so an interval from them can only be wider; it
        costs O(levels), not O(observations). Binary observations stay exact."""
        levels = np.flatnonzero(self._histogram[up])
        return levels / _LEVELS, self._histogram[up][levels]

    def _log_capital(self, m: np.ndarray, up: bool) -> np.ndarray:
        """The mixture's log capital now, against each null mean in ``m``."""
        values, counts = self._counts(up)
        per_bet = np.einsum("v,vmj->mj", counts, _log_returns(values, m, up, self.bets[up]))
        return _log_mixture(per_bet, self.weights[up])

    def _bound(self, up: bool) -> float:
        """The interval's end on [0, 1], found by bisection on a capital monotone in m and
        kept on the rejected side, so the interval never covers less than it should."""
        rejected, kept = (0.0, 1.0) if up else (1.0, 0.0)
        if self.n == 0:
            return rejected
        # A test point the exact capital rejected bounds the interval: it agrees with
        # the decision taken there.
        for (point, side), capital in self.capital.items():
            if side is up and _log_mixture(capital, self.weights[up]) >= self.threshold:
                m = float(self.points[point])
                rejected = max(rejected, m) if up else min(rejected, m)
        for _ in range(_BISECTION_STEPS):
            middle = (rejected + kept) / 2
            if self._log_capital(np.array([middle]), up)[0] >= self.threshold:
                rejected = middle
            else:
                kept = middle
        return rejected

    def _needed(self) -> int | None:
        """Observations that would decide, if those to come average as those so far."""
        if self.n == 0:
            return None

        def total_for(point: int, up: bool) -> float:
            if _log_mixture(self.capital[point, up], self.weights[up]) >= self.threshold:
                return float(self.n)
            values, counts = self._counts(up)
            returns = _log_returns(values, self.points[point:point + 1], up, self.bets[up])
            growth = np.einsum("v,vj->j", counts, returns[:, 0]) / self.n
            # A bet's share of the mixture's capital reaches the threshold at
            # log(share) = threshold - log(its weight).
            positive = growth > 0
            if not positive.any():
                return math.inf
            price = -np.log(self.weights[up][positive])
            return float(((self.threshold + price) / growth[positive]).min())

        fail = min(total_for(p, side) for p, side in self.rule.fail_any)
        passing = max(total_for(p, side) for p, side in self.rule.pass_all)
        total = min(fail, passing)
        if not math.isfinite(total):
            return None
        return max(1, math.ceil(total) - self.n)

    def decision(self) -> SequentialDecision:
        if self._decision is None:
            self._decision = self._decide()
        return self._decision

    def _scaled_back(self, value: float) -> float:
        # A test point comes back as given (0.02, not 0.020000000000000018).
        return self._original.get(value, self.low + (self.high - self.low) * value)

    def _decide(self) -> SequentialDecision:
        logs = {process: float(_log_mixture(c, self.weights[process[1]]))
                for process, c in self.capital.items()}
        # The evidence nearest a decision: the strongest against a FAIL hypothesis, or
        # the weakest of those that must all be rejected for a PASS.
        fail = max(logs[process] for process in self.rule.fail_any)
        passing = min(logs[process] for process in self.rule.pass_all)
        evidence = {Outcome.FAIL: fail, Outcome.PASS: passing}.get(self.outcome,
                                                                   max(fail, passing))
        return SequentialDecision(
            outcome=self.outcome, n=self.n,
            estimate=self.total / self.n if self.n else math.nan,
            low=self._scaled_back(self._bound(up=True)),
            high=self._scaled_back(self._bound(up=False)),
            statistic=math.exp(min(evidence, _MAX_LOG_EVALUE)),
            needed_more=self._needed() if self.outcome is Outcome.CONTINUE else None)


class DisagreementTest:
    """Shadow (paired): is the rate at which the candidate's decision differs from
    production's above ``tolerance`` (FAIL) or below it (PASS)? Each observation is 1 for
    a disagreement, 0 for an agreement. A false FAIL and a false PASS each happen at most
    ``alpha`` of the time; the interval is a 1 - 2 alpha confidence sequence."""

    def __init__(self, tolerance: float, alpha: float = 0.05) -> None:
        self.tolerance = _check_range("tolerance", tolerance, 0.0, 1.0)
        if self.tolerance == 0:
            raise StatisticsInputError(
                "tolerance must be above 0: no finite evidence shows a rate is below 0",
                key="tolerance")
        self.alpha = _check_alpha(alpha)
        self.confidence = 1 - 2 * self.alpha
        self._engine = _Engine(_Rule((self.tolerance,), ((0, True),), ((0, False),)),
                               self.alpha, 0.0, 1.0, up_bets=CAUTIOUS_BETS,
                               up_weights=weights_near(self.tolerance))
        self._flips = [0, 0, 0]  # approve->reject, reject->approve, agree

    def update(self, disagreed: bool | float) -> SequentialDecision:
        return self.update_many([disagreed])

    def update_many(self, disagreements: Iterable[bool | int | float]) -> SequentialDecision:
        x = _as_observations(disagreements, 0.0, 1.0, "a disagreement")
        if not np.isin(x, (0.0, 1.0)).all():
            raise StatisticsInputError("a disagreement must be 0 or 1 (or a bool)")
        self._engine.add(x)
        return self._engine.decision()

    def update_pair(self, production: bool, candidate: bool) -> SequentialDecision:
        """One paired request: production's and the candidate's decision (True = approve,
        or whichever label is the positive one), counted as a flip when they differ."""
        return self.update_pairs([production], [candidate])

    def update_pairs(self, production: Sequence[bool],
                     candidate: Sequence[bool]) -> SequentialDecision:
        old, new = np.asarray(production, dtype=bool), np.asarray(candidate, dtype=bool)
        if old.shape != new.shape or old.ndim != 1:
            raise StatisticsInputError(
                f"paired decisions must be two flat sequences of one length, got "
                f"{old.shape} and {new.shape}")
        # Every pair is counted, also after a decision: the counts describe the window.
        self._flips[0] += int((old & ~new).sum())
        self._flips[1] += int((~old & new).sum())
        self._flips[2] += int((old == new).sum())
        return self.update_many(old != new)

    @property
    def flips(self) -> FlipCounts:
        return FlipCounts(*self._flips)

    def decision(self) -> SequentialDecision:
        return self._engine.decision()


def _margin_rule(margin: float, pass_margin: float | None) -> _Rule:
    wide = margin if pass_margin is None else pass_margin
    return _Rule((margin, -margin, wide, -wide), fail_any=((0, True), (1, False)),
                 pass_all=((2, False), (3, True)))


def _check_margins(margin: float, pass_margin: float | None) -> tuple[float, float | None]:
    margin = _check_range("margin", margin, 0.0, 1.0)
    if pass_margin is not None:
        pass_margin = _check_range("pass_margin", pass_margin, 0.0, 1.0)
        if pass_margin < margin:
            raise StatisticsInputError(
                f"pass_margin ({pass_margin:g}) must be at least margin ({margin:g}): a "
                f"difference surely beyond the margin fails", key="pass_margin")
    return margin, pass_margin


class PairedDifferenceTest:
    """Shadow (paired): the mean of candidate-minus-production score differences, each in
    [-1, 1]. FAIL when the confidence sequence lies wholly outside [-margin, margin], PASS
    when it lies wholly inside [-pass_margin, pass_margin] (default: the margin). A false
    FAIL happens at most ``alpha`` of the time; the interval is a 1 - alpha sequence."""

    def __init__(self, margin: float, alpha: float = 0.05,
                 pass_margin: float | None = None) -> None:
        self.margin, self.pass_margin = _check_margins(margin, pass_margin)
        self.alpha = _check_alpha(alpha)
        self.confidence = 1 - self.alpha
        self._engine = _Engine(_margin_rule(self.margin, self.pass_margin), self.alpha / 2,
                               -1.0, 1.0)

    def update(self, difference: float) -> SequentialDecision:
        return self.update_many([difference])

    def update_many(self, differences: Iterable[float]) -> SequentialDecision:
        self._engine.add(_as_observations(differences, -1.0, 1.0, "a score difference"))
        return self._engine.decision()

    def decision(self) -> SequentialDecision:
        return self._engine.decision()


class Arm(str, Enum):
    """Which revision answered a request during a canary step."""

    CANARY = "canary"
    STABLE = "stable"


def batches_for_share(canary_share: float) -> tuple[int, int]:
    """Canary and stable answers per pair for a step sending ``canary_share`` of the
    traffic to the canary: the arms' expected ratio, rounded (10 % gives (1, 9))."""
    share = _check_range("canary_share", canary_share, 0.0, 1.0)
    if share == 0:
        raise StatisticsInputError("canary_share must be above 0", key="canary_share")
    if share <= 0.5:
        return 1, max(1, round((1 - share) / share))
    return max(1, round(share / (1 - share))), 1


class TwoArmTest:
    """Canary (split, unpaired): the canary's mean minus the stable revision's, for answers
    in [0, 1]: a decision rate (answers 0 or 1: two proportions) or a bounded score (two
    means). Answers arrive interleaved from both arms; pairs are batches of
    ``canary_batch`` canary and ``stable_batch`` stable answers in arrival order (see
    ``batches_for_share``). FAIL when the difference is surely beyond ``margin`` either
    way, PASS when surely within ``pass_margin``; ``n`` and ``needed_more`` count pairs."""

    def __init__(self, margin: float, alpha: float = 0.05, pass_margin: float | None = None,
                 canary_batch: int = 1, stable_batch: int = 1) -> None:
        for name, size in (("canary_batch", canary_batch), ("stable_batch", stable_batch)):
            if not (isinstance(size, int) and size >= 1):
                raise StatisticsInputError(f"{name} must be a whole number of at least 1, "
                                           f"got {size!r}", key=name)
        self._paired = PairedDifferenceTest(margin, alpha, pass_margin)
        self.alpha, self.confidence = self._paired.alpha, self._paired.confidence
        self.batch = {Arm.CANARY: canary_batch, Arm.STABLE: stable_batch}
        self._waiting = {side: np.zeros(0) for side in Arm}
        self.seen = {Arm.CANARY: 0, Arm.STABLE: 0}

    def update(self, arm: Arm | str, answer: float) -> SequentialDecision:
        return self.update_many([arm], [answer])

    def update_many(self, arms: Sequence[Arm | str] | np.ndarray,
                    answers: Sequence[float] | np.ndarray) -> SequentialDecision:
        """Answers in arrival order, each with the arm that gave it ('canary' or
        'stable', or an ``Arm``); a numpy array of labels is taken as it is."""
        if len(arms) != len(answers):
            raise StatisticsInputError(
                f"arms and answers must have one length, got {len(arms)} and {len(answers)}")
        values = _as_observations(answers, 0.0, 1.0, "an answer")
        labels = arms if isinstance(arms, np.ndarray) else np.array(
            [getattr(arm, "value", arm) for arm in arms], dtype=object)
        chosen = {side: labels == side.value for side in Arm}
        unknown = ~(chosen[Arm.CANARY] | chosen[Arm.STABLE])
        if unknown.any():
            raise StatisticsInputError(f"an arm must be 'canary' or 'stable', got "
                                       f"{labels[np.flatnonzero(unknown)[0]]!r}")
        for side in Arm:
            self._waiting[side] = np.concatenate([self._waiting[side], values[chosen[side]]])
            self.seen[side] += int(chosen[side].sum())
        pairs = min(len(self._waiting[side]) // self.batch[side] for side in Arm)
        if not pairs:
            return self._paired.decision()
        means = {}
        for side in Arm:
            used = pairs * self.batch[side]
            means[side] = self._waiting[side][:used].reshape(pairs, -1).mean(axis=1)
            self._waiting[side] = self._waiting[side][used:]
        return self._paired.update_many(means[Arm.CANARY] - means[Arm.STABLE])

    def decision(self) -> SequentialDecision:
        return self._paired.decision()


@dataclass(frozen=True)
class ErrorBudget:
    """One false-stop rate, ``alpha``, shared by ``steps`` x ``metrics`` anytime-valid
    tests, each at ``per_test`` (Bonferroni: valid across every look at every step)."""

    alpha: float
    steps: int
    metrics: int

    @property
    def per_test(self) -> float:
        return self.alpha / (self.steps * self.metrics)


def split_alpha(alpha: float, steps: int, metrics: int) -> ErrorBudget:
    """Split ``alpha`` evenly over ``steps`` traffic steps x ``metrics`` tests per step."""
    _check_alpha(alpha)
    for name, count in (("steps", steps), ("metrics", metrics)):
        if not (isinstance(count, int) and count >= 1):
            raise StatisticsInputError(f"{name} must be a whole number of at least 1, "
                                       f"got {count!r}", key=name)
    return ErrorBudget(float(alpha), steps, metrics)
