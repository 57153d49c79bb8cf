"""Coverage of the paired intervals at small counts: how often a nominal 95% interval of
candidate minus baseline holds the true difference, by Monte Carlo, for the ROC AUC, log
loss and recall differences, at 10, 25, 50, 200 and 2,000 positives.

    .venv/bin/python benchmarks/coverage.py [--reps 400] [--boot-reps 150] [--resamples 500]

Two binormal models score the same rows (4 negatives per positive): model A's score is
mu_A * y + e1, model B's mu_B * y + rho * e1 + sqrt(1 - rho^2) * e2, unit variance within
each class, so the true AUCs are Phi(mu / sqrt 2). Each model's probability is its exact
posterior (calibrated), and recall is read at the prevalence (threshold 0.2). The true
log loss and recall come from Gauss-Hermite quadrature, exactly; the true difference is
therefore known. Each replicate draws a fresh golden set and computes each method's
interval with the harness's code:

- ``analytic``: what the harness computes (DeLong for the AUC; the central limit theorem
  for log loss; the delta method for recall, Agresti-Min for the paired recall
  difference: one half added to each cell of the 2x2 table of the two models' hits on the
  positives);
- ``bootstrap``: the harness's paired percentile bootstrap (stratified by class for the
  AUC and recall), ``--resamples`` resamples;
- ``normal``: the plain normal (Wald) interval the harness used before, for comparison.

Coverage is printed with its Monte-Carlo standard error, sqrt(c(1 - c) / reps). The
bootstrap has fewer replicates (``--boot-reps``; at 2,000 positives a third of them):
it is 500 resamples per replicate.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.stats import norm

from harness.kinds.metrics.binary import row_metric
from harness.stats import analytic, bootstrap

MU_A, MU_B, RHO = 1.5, 1.35, 0.6
PREVALENCE = 0.2
THRESHOLD = 0.2
CONFIDENCE = 0.95
POSITIVES = (10, 25, 50, 200, 2000)
METRICS = ("roc_auc", "log_loss", "recall")


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _probability(mu: float, score: np.ndarray) -> np.ndarray:
    """The exact posterior P(y=1 | score) of a binormal model at the prevalence."""
    return 1 / (1 + np.exp(-(mu * score - mu * mu / 2 + _logit(PREVALENCE))))


def _truth(mu: float) -> dict[str, float]:
    nodes, weights = hermegauss(200)
    weights = weights / weights.sum()
    def logit(score: np.ndarray) -> np.ndarray:
        return mu * score - mu * mu / 2 + _logit(PREVALENCE)

    # -log p = log(1 + e^-x) and -log(1 - p) = log(1 + e^x), without overflow.
    loss_pos = np.sum(weights * np.logaddexp(0, -logit(nodes + mu)))
    loss_neg = np.sum(weights * np.logaddexp(0, logit(nodes)))
    cut = (_logit(THRESHOLD) - _logit(PREVALENCE) + mu * mu / 2) / mu
    return {"roc_auc": float(norm.cdf(mu / math.sqrt(2))),
            "log_loss": float(PREVALENCE * loss_pos + (1 - PREVALENCE) * loss_neg),
            "recall": float(norm.sf(cut - mu))}


def _draw(rng: np.random.Generator, positives: int) -> tuple[np.ndarray, ...]:
    y = np.r_[np.ones(positives), np.zeros(4 * positives)]
    e1, e2 = rng.normal(size=(2, len(y)))
    a = MU_A * y + e1
    b = MU_B * y + RHO * e1 + math.sqrt(1 - RHO * RHO) * e2
    return y, _probability(MU_A, a), _probability(MU_B, b)


def _covers(low: float, high: float, truth: float) -> bool:
    return bool(low <= truth <= high)


def _normal_interval(name: str, y, a, b) -> tuple[float, float]:
    """The plain Wald interval of the paired difference (the delta method for recall)."""
    d = analytic.paired(name, y, a, b, THRESHOLD, CONFIDENCE, small_sample=False).difference
    return d.interval.low, d.interval.high


def main() -> int:
    global MU_A, MU_B
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400, help="replicates, analytic methods")
    parser.add_argument("--boot-reps", type=int, default=150, help="replicates, bootstrap")
    parser.add_argument("--resamples", type=int, default=500)
    parser.add_argument("--positives", type=int, nargs="+", default=list(POSITIVES))
    parser.add_argument("--mu", type=float, nargs=2, default=[MU_A, MU_B],
                        metavar=("MU_A", "MU_B"), help="the two models' separations")
    args = parser.parse_args()
    MU_A, MU_B = args.mu
    truth_a, truth_b = _truth(MU_A), _truth(MU_B)
    true = {m: truth_a[m] - truth_b[m] for m in METRICS}
    print(f"models: mu {MU_A} and {MU_B} (true ROC AUC {truth_a['roc_auc']:.4f} and "
          f"{truth_b['roc_auc']:.4f}), score correlation {RHO} within a class, "
          f"{PREVALENCE:.0%} positives")
    print("true differences (A - B): " + ", ".join(f"{m} {v:+.4f}" for m, v in true.items()))
    print(f"nominal {CONFIDENCE:.0%}; coverage ± Monte-Carlo SE (replicates)\n")
    header = f"{'metric':<10}{'positives':>10}  {'normal':>22}{'analytic':>22}{'bootstrap':>22}"
    print(header)
    started = time.perf_counter()
    for positives in args.positives:
        rng = np.random.default_rng(positives)
        hits = {(m, k): [] for m in METRICS for k in ("normal", "analytic", "bootstrap")}
        boot_reps = args.boot_reps if positives < 2000 else max(20, args.boot_reps // 3)
        for rep in range(args.reps):
            y, a, b = _draw(rng, positives)
            for name in METRICS:
                hits[(name, "normal")].append(_covers(*_normal_interval(name, y, a, b),
                                                      true[name]))
                d = analytic.paired(name, y, a, b, THRESHOLD, CONFIDENCE).difference
                hits[(name, "analytic")].append(_covers(d.interval.low, d.interval.high,
                                                        true[name]))
                if rep < boot_reps:
                    found = bootstrap.paired(row_metric(name, y, a, THRESHOLD),
                                             row_metric(name, y, b, THRESHOLD),
                                             args.resamples, CONFIDENCE, rep).difference
                    hits[(name, "bootstrap")].append(_covers(found.interval.low,
                                                             found.interval.high, true[name]))
        for name in METRICS:
            cells = []
            for method in ("normal", "analytic", "bootstrap"):
                got = np.array(hits[(name, method)], dtype=float)
                c = got.mean()
                cells.append(f"{c:.3f} ± {math.sqrt(c * (1 - c) / len(got)):.3f} ({len(got)})")
            print(f"{name:<10}{positives:>10}  " + "".join(f"{cell:>22}" for cell in cells))
        sys.stdout.flush()
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
