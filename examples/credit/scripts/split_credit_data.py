"""Split the credit scoring data once, deterministically, into training and golden sets.

This was run once to create ``fixtures/credit/train.csv`` and
``golden/credit/v1/credit.csv``; both are committed. It is kept so the split
can be audited and reproduced, not run in CI. Source: see ``golden/README.md``.

    python scripts/split_credit_data.py ../shared/data/credit_data.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

SEED = 20261125
GOLDEN_FRACTION = 0.25
ROOT = Path(__file__).resolve().parent.parent


def main(source: str) -> None:
    data = pd.read_csv(source)
    train, golden = train_test_split(
        data, test_size=GOLDEN_FRACTION, stratify=data["Status"], random_state=SEED
    )
    train.sort_index().to_csv(ROOT / "fixtures/credit/train.csv", index=False)
    golden.sort_index().to_csv(ROOT / "golden/credit/v1/credit.csv", index=False)
    print(f"train: {len(train)} rows, golden: {len(golden)} rows")


if __name__ == "__main__":
    main(sys.argv[1])
