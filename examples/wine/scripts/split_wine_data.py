"""Split scikit-learn's bundled wine data (no download) into training data and a golden
candidate, once: ``python scripts/split_wine_data.py OUT_DIR``, then record the golden
file with ``harness golden add``."""

from __future__ import annotations

import sys
from pathlib import Path

from sklearn.datasets import load_wine
from sklearn.model_selection import train_test_split

SEED = 20261202


def main(out: Path) -> None:
    bunch = load_wine(as_frame=True)
    frame = bunch.frame.rename(columns={"od280/od315_of_diluted_wines": "od280_od315"})
    frame["cultivar"] = [bunch.target_names[t] for t in frame.pop("target")]
    train, golden = train_test_split(frame, test_size=0.35, stratify=frame["cultivar"],
                                     random_state=SEED)
    out.mkdir(parents=True, exist_ok=True)
    train.sort_index().to_csv(out / "train.csv", index=False)
    golden.sort_index().to_csv(out / "wine.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
