"""Train the wine model and write its artifact; also its CLI.

    python -m wine_model.train --data fixtures/wine/train.csv --out artifacts/wine \
        --seed 0 [--drop-feature proline]...
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import joblib
import pandas as pd

from wine_model.model import LABEL, MODEL_FILE, build_pipeline


def train(data_path: str | Path, out_dir: str | Path, seed: int = 0,
          drop_features: Sequence[str] = ()) -> Path:
    """Fit on ``data_path`` (features, then the label column) and write ``out_dir``."""
    data = pd.read_csv(data_path)
    features = data.drop(columns=[LABEL])
    for column in drop_features:
        # A dropped feature is held constant, so the model still takes full records.
        features[column] = 0.0
    pipeline = build_pipeline(seed).fit(features, data[LABEL])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, out / MODEL_FILE, compress=0, protocol=4)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--drop-feature", action="append", default=[])
    args = parser.parse_args(argv)
    print(train(args.data, args.out, args.seed, args.drop_feature))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
