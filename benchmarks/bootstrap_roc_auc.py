"""How long 1,000 bootstrap resamples of ROC AUC on 100,000 rows take: the harness's
vectorised bootstrap next to the naive loop over scikit-learn.

    .venv/bin/python benchmarks/bootstrap_roc_auc.py [--rows 100000] [--resamples 1000]

The naive loop is timed on a tenth of the resamples and scaled, to keep the run short.
Pin to one core for the figure the issue asks for: ``taskset -c 0 ...``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.metrics import roc_auc_score

from harness.kinds.metrics.binary import resampled_metric
from harness.stats.bootstrap import RowMetric, samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--resamples", type=int, default=1_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, args.rows)
    scores = np.clip(y * 0.3 + rng.normal(0.35, 0.25, args.rows), 0, 1)
    print(f"rows={args.rows} resamples={args.resamples}")
    vectorised = 0.0
    for label, values in (("continuous scores", scores), ("scores with ties", scores.round(3))):
        start = time.perf_counter()
        # The value on all rows is not timed here: only the resamples.
        metric = RowMetric(float("nan"), resampled_metric("roc_auc", y, values, 0.5), len(y))
        drawn = samples([metric], args.resamples, seed=1)[0]
        elapsed = time.perf_counter() - start
        vectorised = max(vectorised, elapsed)
        print(f"vectorised, {label:<17}: {elapsed:6.2f} s  (95% interval "
              f"{np.quantile(drawn, 0.025):.4f}..{np.quantile(drawn, 0.975):.4f})")

    naive_resamples = max(1, args.resamples // 10)
    start = time.perf_counter()
    naive = []
    for _ in range(naive_resamples):
        idx = rng.integers(0, args.rows, args.rows)
        naive.append(roc_auc_score(y[idx], scores[idx]))
    naive_total = (time.perf_counter() - start) * args.resamples / naive_resamples

    print(f"naive sklearn loop           : {naive_total:6.2f} s  (timed on {naive_resamples} "
          f"resamples and scaled; AUC mean {np.mean(naive):.4f})")
    print(f"speed-up (slower case)       : {naive_total / vectorised:6.1f} x")


if __name__ == "__main__":
    main()
