"""False alarms and power of the feature_drift starter thresholds on the reference
project's training data (examples/credit), with the harness's own functions.

    .venv/bin/python benchmarks/feature_drift.py [--reps 300]

No drift: ``--reps`` samples of n rows drawn from the training data are compared with it;
the fraction that a starter threshold flags is its false-alarm rate per column. Drift: the
same samples with Income multiplied by 1.1 and 1.2; the fraction flagged is the power.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from harness.stats import drift

TRAIN = Path(__file__).parent.parent / "examples/credit/fixtures/credit/train.csv"
PSI_MAX, KS_MAX, P_VALUE_MIN = 0.2, 0.1, 0.01


def flagged(reference: pd.Series, current: pd.Series, numeric: bool) -> tuple[bool, bool]:
    """(PSI above its threshold, the second test flags it)."""
    psi = drift.psi(reference, current, numeric) > PSI_MAX
    if numeric:
        test = drift.ks(reference, current)
        return psi, test.statistic > KS_MAX and test.p_value < P_VALUE_MIN
    return psi, drift.chi_square(reference, current).p_value < P_VALUE_MIN


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    reps = parser.parse_args().reps
    train = pd.read_csv(TRAIN)
    print("rows  column  scale  PSI flags  second test flags")
    for n in (200, 1000):
        for column, numeric, scale in (("Income", True, 1.0), ("Age", True, 1.0),
                                       ("Home", False, 1.0), ("Income", True, 1.1),
                                       ("Income", True, 1.2)):
            counts = [0, 0]
            for seed in range(reps):
                current = train[column].sample(n=n, random_state=seed)
                if scale != 1.0:
                    current = current * scale
                for i, hit in enumerate(flagged(train[column], current, numeric)):
                    counts[i] += hit
            print(f"{n:5d}  {column:6s}  {scale:5.1f}  {counts[0] / reps:9.3f}  "
                  f"{counts[1] / reps:17.3f}")


if __name__ == "__main__":
    main()
