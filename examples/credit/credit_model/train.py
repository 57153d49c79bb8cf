"""Train the credit model and write a reproducible artifact; also its CLI.

    python -m credit_model.train --data fixtures/credit/train.csv --out artifacts/credit \
        --seed 0 [--sample N] [--drop-feature Income]...

Two trainings with the same data, seed, sample, dropped features and params
write byte-identical `model.joblib` files (same sha256).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import sklearn

from credit_model.artifact import (
    METADATA_FILE,
    MODEL_FILE,
    ModelMetadata,
    sha256_file,
    write_atomically,
)
from credit_model.features import CLASSES, FEATURES, LABEL, POSITIVE, coerce_frame
from credit_model.model import DEFAULT_PARAMS, build_pipeline


def load_training_data(
    data_path: str | Path, seed: int = 0, sample: int | None = None
) -> tuple[pd.DataFrame, pd.Series]:
    """Read the training CSV, optionally draw `sample` rows (seeded), return (X, y)."""
    data = pd.read_csv(data_path)
    unknown = set(data[LABEL].dropna().unique()) - set(CLASSES)
    if unknown or data[LABEL].isna().any():
        raise ValueError(
            f"{data_path}: column {LABEL} must be one of {CLASSES}, found {sorted(unknown)}"
        )
    if sample is not None:
        if not 0 < sample <= len(data):
            raise ValueError(f"sample must be in 1..{len(data)}, got {sample}")
        data = data.sample(n=sample, random_state=seed).sort_index()
    return coerce_frame(data), data[LABEL].astype(object)


def train(
    data_path: str | Path,
    out_dir: str | Path,
    seed: int = 0,
    sample: int | None = None,
    drop_features: list[str] | None = None,
    name: str = "credit-scoring",
    version: str = "1.0.0",
    params: dict[str, Any] | None = None,
    threshold: float = 0.5,
) -> Path:
    """Fit the pipeline on `data_path` and write the artifact directory `out_dir` atomically.

    Returns the artifact directory.
    """
    dropped = sorted(set(drop_features or []))
    features, labels = load_training_data(data_path, seed=seed, sample=sample)
    pipeline = build_pipeline(seed, params, dropped)
    pipeline.fit(features, labels)

    def fill(directory: Path) -> None:
        model_path = directory / MODEL_FILE
        # compress=0 and protocol pinned: the bytes depend only on the fitted state.
        joblib.dump(pipeline, model_path, compress=0, protocol=4)
        metadata = ModelMetadata(
            name=name,
            version=version,
            artifact_sha256=sha256_file(model_path),
            training_data_sha256=sha256_file(data_path),
            training_rows=len(features),
            seed=seed,
            sample=sample,
            params={**DEFAULT_PARAMS, **(params or {})},
            sklearn_version=sklearn.__version__,
            features=list(FEATURES),
            dropped_features=dropped,
            label=LABEL,
            positive_class=POSITIVE,
            threshold=threshold,
        )
        (directory / METADATA_FILE).write_text(
            metadata.model_dump_json(indent=2) + "\n", encoding="utf-8"
        )

    return write_atomically(out_dir, fill)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m credit_model.train", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--data", required=True, type=Path, help="training CSV with a Status column"
    )
    parser.add_argument("--out", required=True, type=Path, help="artifact directory to write")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--sample", type=int, default=None, help="train on N rows drawn with the seed"
    )
    parser.add_argument(
        "--drop-feature",
        action="append",
        default=[],
        choices=FEATURES,
        metavar="FEATURE",
        help="leave a feature out of the model (repeatable)",
    )
    parser.add_argument("--name", default="credit-scoring")
    parser.add_argument("--version", default="1.0.0")
    parser.add_argument("--threshold", type=float, default=0.5)
    args = parser.parse_args(argv)
    try:
        out = train(
            args.data,
            args.out,
            seed=args.seed,
            sample=args.sample,
            drop_features=args.drop_feature,
            name=args.name,
            version=args.version,
            threshold=args.threshold,
        )
    except (OSError, ValueError) as error:
        print(f"credit_model.train: {error}", file=sys.stderr)
        return 1
    print(f"wrote {out} (model sha256 {sha256_file(out / MODEL_FILE)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
