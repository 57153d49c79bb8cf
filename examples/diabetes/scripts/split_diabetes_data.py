"""Split scikit-learn's bundled diabetes data (no download; unscaled features) into
training data and a golden candidate, once: ``python scripts/split_diabetes_data.py
OUT_DIR``, then record the golden file with ``harness golden add``."""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

SEED = 20261202


def main(out: Path) -> None:
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame = frame.rename(columns={"target": "progression"})
    frame["age"] = frame["age"].astype(int)
    frame["sex"] = frame["sex"].astype(int)
    train, golden = train_test_split(frame, test_size=0.35, random_state=SEED)
    out.mkdir(parents=True, exist_ok=True)
    train.sort_index().to_csv(out / "train.csv", index=False)
    golden.sort_index().to_csv(out / "diabetes.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
