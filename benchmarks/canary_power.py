"""Canary analysis power (issue 28's goals): how soon the anytime-valid two-arm test of
harness.stats.sequential aborts a canary whose decision rate moved, and how rarely it
aborts one equal to stable over all its steps, beside a fixed-horizon test repeated at
every interval (the Argo / Flagger / Kayenta pattern) on the very same simulated traffic.

    .venv/bin/python benchmarks/canary_power.py [--runs 500] [--seed 0]

Traffic: ``--canary-rps`` canary requests a second at the first step (10 %), so the
service takes ten times that in all, which stays constant: the stable revision answers
the rest of each step's share (9x the canary's at 10 %, as much at 50 %). Every request
is routed at random with the step's share. An answer is the model's decision, approve
(1) or reject (0); stable approves ``--base`` of applicants (credit's approval rate is
about 0.7 to 0.8: 0.75 by default), a bad canary ``--shift`` more (3 points).

The sequential test: ``TwoArmTest``, margin 0 (FAIL when the rates surely differ), a step
PASSes when the difference is surely within ``--pass-margin``, at alpha split by
``split_alpha`` over 3 steps x ``--metrics`` tests per step (decision rate, scores,
latency, errors). A step lasts at most ``--step-minutes``; one still undecided then is
inconclusive (held, then aborted; never advanced). At the 100 % step there is no stable
arm in the window, so steps 10 and 50 are the ones simulated; the budget still counts 3.

The repeated test: the two-proportion z test at ``--alpha`` (no correction) on the step's
answers so far, every ``--interval`` seconds, aborting at its first rejection, as a
fixed-horizon analysis run at every interval does.

The best any test could do (``--goal-minutes``, 5 by default): one two-proportion z test at
the per-test alpha, looked at once, with the oracle's sample size (all the answers of the
first ``--goal-minutes``) and knowing the effect's sign (one-sided), which no test that
must also catch a canary approving fewer could do. Its power, analytic and simulated on
``--runs`` streams, bounds what the "90 % aborted within 5 minutes" goal can reach at this
traffic; the minutes it would need for 90 % are printed beside it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy import stats

from harness.stats.sequential import (
    Outcome,
    TwoArmTest,
    batches_for_share,
    split_alpha,
)

STEPS = (0.10, 0.50)  # the steps with a stable arm in the window (then 100 %)


@dataclass(frozen=True)
class Step:
    """One simulated step: its outcome, when (seconds into the step), and the repeated
    test's first rejection (seconds, or None)."""

    outcome: Outcome
    seconds: float
    repeated_abort: float | None


def _simulate_step(rng: np.random.Generator, share: float, canary_rate: float,
                   args: argparse.Namespace, alpha: float) -> Step:
    total_rps = args.canary_rps / STEPS[0]
    requests = int(args.step_minutes * 60 * total_rps)
    canary = rng.random(requests) < share
    approve = rng.random(requests) < np.where(canary, canary_rate, args.base)
    canary_batch, stable_batch = batches_for_share(share)
    test = TwoArmTest(margin=0.0, pass_margin=args.pass_margin, alpha=alpha,
                      canary_batch=canary_batch, stable_batch=stable_batch)
    decision = test.update_many(np.where(canary, "canary", "stable"), approve.astype(float))
    if decision.outcome is Outcome.CONTINUE:
        seconds = requests / total_rps
    else:
        # The decision came with the n-th pair: its last canary and stable answers.
        last = max(np.flatnonzero(canary)[decision.n * canary_batch - 1],
                   np.flatnonzero(~canary)[decision.n * stable_batch - 1])
        seconds = (last + 1) / total_rps
    return Step(decision.outcome, seconds, _repeated_z(canary, approve, total_rps, args))


def _repeated_z(canary: np.ndarray, approve: np.ndarray, total_rps: float,
                args: argparse.Namespace) -> float | None:
    looks = np.arange(int(args.interval * total_rps), len(canary) + 1,
                      int(args.interval * total_rps))
    n_c, n_s = np.cumsum(canary)[looks - 1], np.cumsum(~canary)[looks - 1]
    a_c = np.cumsum(approve & canary)[looks - 1]
    a_s = np.cumsum(approve & ~canary)[looks - 1]
    pooled = (a_c + a_s) / (n_c + n_s)
    se = np.sqrt(pooled * (1 - pooled) * (1 / np.maximum(n_c, 1) + 1 / np.maximum(n_s, 1)))
    z = np.abs(a_c / np.maximum(n_c, 1) - a_s / np.maximum(n_s, 1)) / np.maximum(se, 1e-12)
    rejected = np.flatnonzero(z > stats.norm.ppf(1 - args.alpha / 2))
    return float(looks[rejected[0]] / total_rps) if len(rejected) else None


def _minutes(values: list[float]) -> str:
    if not values:
        return "none"
    array = np.asarray(values) / 60
    return (f"median {np.median(array):.1f} min, 90th percentile "
            f"{np.quantile(array, 0.9):.1f} min")


def _oracle(rng: np.random.Generator, args: argparse.Namespace, alpha: float) -> None:
    """The one-sided fixed-horizon z test at ``alpha`` on the first ``--goal-minutes``."""
    total_rps = args.canary_rps / STEPS[0]
    seconds = args.goal_minutes * 60
    n_canary, n_stable = args.canary_rps * seconds, (total_rps - args.canary_rps) * seconds
    p, q = args.base, args.base + args.shift
    critical = stats.norm.ppf(1 - alpha)

    def power(n_c: float, n_s: float) -> float:
        pooled = (p * n_s + q * n_c) / (n_c + n_s)
        se0 = np.sqrt(pooled * (1 - pooled) * (1 / n_c + 1 / n_s))
        se1 = np.sqrt(q * (1 - q) / n_c + p * (1 - p) / n_s)
        return float(stats.norm.sf((critical * se0 - (q - p)) / se1))

    a_c = rng.binomial(int(n_canary), q, args.runs) / int(n_canary)
    a_s = rng.binomial(int(n_stable), p, args.runs) / int(n_stable)
    pooled = (a_c * n_canary + a_s * n_stable) / (n_canary + n_stable)
    z = (a_c - a_s) / np.sqrt(pooled * (1 - pooled) * (1 / n_canary + 1 / n_stable))
    minutes = next((m for m in np.arange(0.5, 240, 0.5)
                    if power(args.canary_rps * m * 60,
                             (total_rps - args.canary_rps) * m * 60) >= 0.9), float("nan"))
    print(f"  best any test could do in {args.goal_minutes:g} min ({int(n_canary)} canary, "
          f"{int(n_stable)} stable answers): one-sided z test at alpha {alpha:.5f}, looked at "
          f"once: power {power(n_canary, n_stable):.1%} analytic, "
          f"{np.mean(z > critical):.1%} simulated; 90 % power needs {minutes:g} min")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--metrics", type=int, default=4)
    parser.add_argument("--base", type=float, default=0.75)
    parser.add_argument("--shift", type=float, default=0.03)
    parser.add_argument("--pass-margin", type=float, default=0.03)
    parser.add_argument("--canary-rps", type=float, default=5.0)
    parser.add_argument("--step-minutes", type=float, default=20.0)
    parser.add_argument("--interval", type=float, default=60.0,
                        help="seconds between looks of the repeated fixed-horizon test")
    parser.add_argument("--goal-minutes", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print("$ .venv/bin/python benchmarks/canary_power.py " + shlex.join(argv or sys.argv[1:]))
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    budget = split_alpha(args.alpha, steps=3, metrics=args.metrics)
    print(f"\nbase approval rate {args.base}, canary {args.canary_rps:g} req/s at the 10 % "
          f"step ({args.canary_rps / STEPS[0]:g} req/s in all), steps of at most "
          f"{args.step_minutes:g} min; alpha {args.alpha} over 3 steps x {args.metrics} "
          f"metrics = {budget.per_test:.5f} per test; pass margin {args.pass_margin}; "
          f"{args.runs} runs")

    bad = [_simulate_step(rng, STEPS[0], args.base + args.shift, args, budget.per_test)
           for _ in range(args.runs)]
    aborted = [s.seconds for s in bad if s.outcome is Outcome.FAIL]
    repeated = [s.repeated_abort for s in bad if s.repeated_abort is not None]
    print(f"\nA canary approving {args.shift:+.0%} more, first step (10 %):")
    print(f"  sequential: aborted within the step in {len(aborted) / args.runs:.1%} of runs "
          f"(goal >= 90%), within 5 minutes in "
          f"{np.mean([s <= 300 for s in aborted]) * len(aborted) / args.runs:.1%}; "
          f"time to abort {_minutes(aborted)}; passed in "
          f"{np.mean([s.outcome is Outcome.PASS for s in bad]):.1%}")
    print(f"  z test every {args.interval:g} s at alpha {args.alpha}: aborted within the step "
          f"in {len(repeated) / args.runs:.1%}; time to abort {_minutes(repeated)}")
    print("  Argo Rollouts / Flagger canonical examples: 15 to 20 min (interval x failure "
          "limit)")
    _oracle(rng, args, budget.per_test)
    _oracle(rng, args, args.alpha)

    false_sequential = false_repeated = promoted = inconclusive = 0
    walked: list[float] = []
    for _ in range(args.runs):
        steps = [_simulate_step(rng, share, args.base, args, budget.per_test)
                 for share in STEPS]
        # The repeated test judges every step to its full length, as a fixed schedule does.
        false_repeated += any(step.repeated_abort is not None for step in steps)
        for step in steps:
            if step.outcome is not Outcome.PASS:
                false_sequential += step.outcome is Outcome.FAIL
                inconclusive += step.outcome is Outcome.CONTINUE
                break
        else:
            promoted += 1
            walked.append(sum(step.seconds for step in steps))
    print("\nA canary equal to stable, steps 10 % and 50 % (then 100 %):")
    print(f"  sequential: false aborts {false_sequential / args.runs:.1%} (goal <= 1%); "
          f"walked both steps in {promoted / args.runs:.1%} ({_minutes(walked)} for both); "
          f"inconclusive (held) {inconclusive / args.runs:.1%}")
    print(f"  z test every {args.interval:g} s at alpha {args.alpha} over the same steps "
          f"(each run to its full length): false aborts {false_repeated / args.runs:.1%}")
    print(f"\n{time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
