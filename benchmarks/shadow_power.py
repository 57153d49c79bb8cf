"""Shadow analysis power (issue 27's goals): how soon the anytime-valid tests of
harness.stats.sequential stop a worse candidate, and how rarely they stop an acceptable
one, on simulated paired streams (seeded), beside a fixed-horizon test repeated at every
interval (the Kayenta / Argo pattern) on the very same streams.

    .venv/bin/python benchmarks/shadow_power.py [--streams 500] [--horizon 5000] [--seed 0]

Disagreement (one-sample Bernoulli, tolerance 1 %): each paired request disagrees with
probability 3 % or 10 % (detection: requests until FAIL; the mean with its Monte-Carlo
standard error), 1.5 % (a small excess, for what the weighting costs it), or 0.5 % and 1 %
(false stops: the share of streams FAILed within the horizon, at half the tolerance, the
goal's definition, and at the tolerance itself, where alpha bounds it). The repeated test
is the one-sided exact binomial test of "rate <= tolerance" at alpha, run on all requests
so far every ``--every`` requests, failing the candidate at its first rejection. Beside
each: the previous FAIL-side mixture (the same bets, weighted evenly) on the same
streams, and the test at twice the alpha (``--wide-alpha``), the other way to stop sooner.

Paired score difference (margin 0.02): production's score is Beta(2, 5) (a credit-like
spread); the candidate's is production's plus a shift plus normal noise (sd 0.05, the
jitter of a retrained model), clipped to [0, 1]; the difference is their gap. Shifts 0.06
and 0.15 for detection, 0, 0.01 and 0.02 (within the margin, the last on it) for false
stops. The repeated test
is the z test of "|mean| <= margin" at alpha (each side at alpha / 2, as the sequence).

Noise floor (``harness shadow --noise-floor``, tolerance 1 %): production's copy disagrees
with production on 2 % of requests (a nondeterministic model's A/A floor) and the
candidate, independently, at 2 % (as noisy: acceptable), 3 % (1 point of excess: on the
tolerance) or 5 % (3 points of excess: to be stopped). The excess test is the paired
difference of the two disagreement indicators (in [-1, 1]) at margin = tolerance; beside it,
the plain disagreement test on the candidate's stream alone, which cannot tell the floor
from the candidate.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from collections.abc import Callable

import numpy as np
from scipy import stats

from harness.stats.sequential import (
    BETS,
    CAUTIOUS_BETS,
    DisagreementTest,
    Outcome,
    PairedDifferenceTest,
    SequentialDecision,
)

TOLERANCE = 0.01
MARGIN = 0.02


def _run(streams: list[np.ndarray], make: Callable[[], object]) -> list[SequentialDecision]:
    return [make().update_many(stream) for stream in streams]  # type: ignore[attr-defined]


def _stopping(decisions: list[SequentialDecision], outcome: Outcome) -> str:
    return _stops_text([d.n for d in decisions if d.outcome is outcome], len(decisions),
                       outcome.value)


def _stops_text(stopped: list[int], streams: int, what: str) -> str:
    stops = np.array(stopped, dtype=float)
    share = len(stops) / streams
    if not len(stops):
        return f"{what} in {share:.1%} of streams"
    error = stops.std(ddof=1) / np.sqrt(len(stops)) if len(stops) > 1 else 0.0
    return (f"{what} in {share:.1%} of streams, after mean {stops.mean():.0f} "
            f"(standard error {error:.0f}), median {np.median(stops):.0f}, 90th percentile "
            f"{np.quantile(stops, 0.9):.0f} requests")


def _even_mixture(stream: np.ndarray, alpha: float) -> tuple[str, int]:
    """The disagreement test as it was before the FAIL side's weights (harness 27's first
    version): both sides' bets weighted evenly, each side at alpha. Written out from the
    module's formula, so the comparison runs on the very same streams."""
    n = np.arange(1, len(stream) + 1)[:, None]
    ones = np.cumsum(stream)[:, None]
    m, threshold = TOLERANCE, np.log(1 / alpha)

    def first(log_capital: np.ndarray) -> int:
        top = log_capital.max(axis=1)
        mixture = top + np.log(np.exp(log_capital - top[:, None]).mean(axis=1))
        crossed = np.flatnonzero(mixture >= threshold)
        return int(crossed[0]) + 1 if len(crossed) else len(stream) + 1

    fail = first(ones * np.log1p(CAUTIOUS_BETS * (1 / m - 1))
                 + (n - ones) * np.log1p(-CAUTIOUS_BETS))
    passing = first((n - ones) * np.log1p(BETS * m / (1 - m)) + ones * np.log1p(-BETS))
    if min(fail, passing) > len(stream):
        return "continue", len(stream)
    return ("fail", fail) if fail <= passing else ("pass", passing)


def _even_fails(streams: list[np.ndarray], alpha: float) -> tuple[list[int], float]:
    ends = [_even_mixture(stream, alpha) for stream in streams]
    stops = [n for outcome, n in ends if outcome == "fail"]
    return stops, len(stops) / len(streams)


def _binomial_every(stream: np.ndarray, every: int, alpha: float) -> bool:
    looks = np.arange(every, len(stream) + 1, every)
    counts = np.cumsum(stream)[looks - 1]
    # P(X >= count | n, tolerance): the one-sided exact p-value.
    return bool((stats.binom.sf(counts - 1, looks, TOLERANCE) < alpha).any())


def _z_every(stream: np.ndarray, every: int, alpha: float) -> bool:
    looks = np.arange(every, len(stream) + 1, every)
    sums, squares = np.cumsum(stream)[looks - 1], np.cumsum(stream ** 2)[looks - 1]
    mean = sums / looks
    sd = np.sqrt(np.maximum(squares / looks - mean ** 2, 1e-12) * looks / (looks - 1))
    z = stats.norm.ppf(1 - alpha / 2)
    beyond = (mean - MARGIN) / (sd / np.sqrt(looks)) > z
    below = (mean + MARGIN) / (sd / np.sqrt(looks)) < -z
    return bool((beyond | below).any())


def _score_streams(rng: np.random.Generator, shift: float, count: int,
                   horizon: int) -> list[np.ndarray]:
    production = rng.beta(2, 5, (count, horizon))
    candidate = np.clip(production + shift + rng.normal(0, 0.05, (count, horizon)), 0, 1)
    # Logged scores carry a few decimals: differences to 1e-3.
    return list(np.round(candidate - production, 3))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--horizon", type=int, default=5000,
                        help="paired requests per stream (the shadow window)")
    parser.add_argument("--every", type=int, default=50,
                        help="requests between looks of the repeated fixed-horizon test")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--wide-alpha", type=float, default=0.1,
                        help="the alpha the disagreement test is also shown at")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("$ .venv/bin/python benchmarks/shadow_power.py " + shlex.join(argv or sys.argv[1:]))
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    alpha = args.alpha

    print(f"\nDisagreement rate, tolerance {TOLERANCE:.0%}, alpha {alpha} (a false FAIL at "
          f"most alpha), {args.streams} streams of {args.horizon} paired requests")
    for rate, goal in ((0.03, "goal: mean <= 300"), (0.10, "goal: mean <= 60"),
                       (0.015, "no goal")):
        streams = list((rng.random((args.streams, args.horizon)) < rate).astype(float))
        decisions = _run(streams, lambda: DisagreementTest(TOLERANCE, alpha))
        wide = _run(streams, lambda: DisagreementTest(TOLERANCE, args.wide_alpha))
        even, _ = _even_fails(streams, alpha)
        print(f"  detection, candidate at {rate:.1%} ({goal}):\n"
              f"    {_stopping(decisions, Outcome.FAIL)}\n"
              f"    before (even weights): {_stops_text(even, len(streams), 'fail')}\n"
              f"    at alpha {args.wide_alpha}: {_stopping(wide, Outcome.FAIL)}")
    # 0.5 % is the issue's goal; 1 %, the tolerance itself, is the worst case of "within
    # tolerance", where a repeated fixed-horizon test inflates most.
    for rate, goal in ((0.005, " (goal <= 1%)"), (TOLERANCE, " (at most alpha)")):
        streams = list((rng.random((args.streams, args.horizon)) < rate).astype(float))
        decisions = _run(streams, lambda: DisagreementTest(TOLERANCE, alpha))
        wide = _run(streams, lambda: DisagreementTest(TOLERANCE, args.wide_alpha))
        false_sequential = np.mean([d.outcome is Outcome.FAIL for d in decisions])
        false_wide = np.mean([d.outcome is Outcome.FAIL for d in wide])
        false_repeated = np.mean([_binomial_every(s, args.every, alpha) for s in streams])
        _, false_even = _even_fails(streams, alpha)
        print(f"  false stops, candidate at {rate:.1%}: sequential {false_sequential:.1%}"
              f"{goal} | before (even weights) {false_even:.1%} | at alpha "
              f"{args.wide_alpha} {false_wide:.1%} | exact binomial test at alpha every "
              f"{args.every} requests {false_repeated:.1%}")
        print(f"    the same streams: {_stopping(decisions, Outcome.PASS)}")

    floor = 0.02
    print(f"\nNoise floor: production's copy disagrees on {floor:.0%}, tolerance "
          f"{TOLERANCE:.0%}, alpha {alpha}, {args.streams} streams of {args.horizon} requests")
    for rate, what in ((0.02, "as noisy as production (acceptable)"),
                       (0.03, "1 point of excess (on the tolerance)"),
                       (0.05, "3 points of excess")):
        candidate = rng.random((args.streams, args.horizon)) < rate
        copy = rng.random((args.streams, args.horizon)) < floor
        excess = _run(list(candidate.astype(float) - copy.astype(float)),
                      lambda: PairedDifferenceTest(TOLERANCE, alpha))
        plain = _run(list(candidate.astype(float)), lambda: DisagreementTest(TOLERANCE, alpha))
        plain_fails = np.mean([d.outcome is Outcome.FAIL for d in plain])
        print(f"  candidate at {rate:.0%}, {what}:\n"
              f"    excess: {_stopping(excess, Outcome.FAIL)}; "
              f"{_stopping(excess, Outcome.PASS)}\n"
              f"    plain disagreement test: fail in {plain_fails:.1%} of streams")

    print(f"\nPaired score difference, margin {MARGIN}, alpha {alpha}, {args.streams} "
          f"streams of {args.horizon} paired requests")
    for shift in (0.06, 0.15):
        decisions = _run(_score_streams(rng, shift, args.streams, args.horizon),
                         lambda: PairedDifferenceTest(MARGIN, alpha))
        print(f"  detection, shift {shift}: {_stopping(decisions, Outcome.FAIL)}")
    for shift in (0.0, 0.01, MARGIN):
        streams = _score_streams(rng, shift, args.streams, args.horizon)
        decisions = _run(streams, lambda: PairedDifferenceTest(MARGIN, alpha))
        false_sequential = np.mean([d.outcome is Outcome.FAIL for d in decisions])
        false_repeated = np.mean([_z_every(s, args.every, alpha) for s in streams])
        print(f"  false stops, shift {shift}: sequential {false_sequential:.1%} | z test at "
              f"alpha every {args.every} requests {false_repeated:.1%}")
        print(f"    the same streams: {_stopping(decisions, Outcome.PASS)}")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
