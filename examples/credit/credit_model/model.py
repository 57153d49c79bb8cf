"""The credit model: how its pipeline is built and how a trained one is loaded.

`load_model` is the in-process entry point the harness imports as
"credit_model.model:load_model".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder

from credit_model.artifact import (
    METADATA_FILE,
    MODEL_FILE,
    ModelMetadata,
    read_metadata,
    sha256_file,
)
from credit_model.fast_path import FastPreprocess
from credit_model.features import CATEGORICAL, FEATURES, NEGATIVE, NUMERIC, POSITIVE, coerce_columns

DEFAULT_PARAMS: dict[str, Any] = {
    "n_estimators": 200,
    "max_depth": 3,
    "learning_rate": 0.05,
    "subsample": 0.8,
}


def build_pipeline(
    seed: int, params: dict[str, Any] | None = None, drop_features: list[str] | None = None
) -> Pipeline:
    """An unfitted preprocessing + gradient-boosting pipeline.

    `params` override the classifier's DEFAULT_PARAMS. Columns in
    `drop_features` are left out (the ColumnTransformer drops what it does not
    list), so the model still accepts full records.
    """
    dropped = set(drop_features or [])
    unknown = dropped - set(FEATURES)
    if unknown:
        raise ValueError(f"cannot drop unknown features: {', '.join(sorted(unknown))}")
    numeric = [c for c in NUMERIC if c not in dropped]
    categorical = [c for c in CATEGORICAL if c not in dropped]
    transformers = []
    if numeric:
        transformers.append(("numeric", SimpleImputer(strategy="median"), numeric))
    if categorical:
        transformers.append(
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                categorical,
            )
        )
    preprocess = ColumnTransformer(transformers, remainder="drop")
    # subsample < 1 makes the fit stochastic, so the seed really matters.
    classifier = GradientBoostingClassifier(
        random_state=seed, **{**DEFAULT_PARAMS, **(params or {})}
    )
    return Pipeline([("preprocess", preprocess), ("classifier", classifier)])


@dataclass(frozen=True)
class CreditModel:
    """A fitted pipeline together with the metadata it was trained under."""

    pipeline: Pipeline
    metadata: ModelMetadata

    @property
    def threshold(self) -> float:
        return self.metadata.threshold

    @property
    def version(self) -> str:
        return self.metadata.version

    @cached_property
    def _fast(self) -> FastPreprocess | None:
        return FastPreprocess.compile(self.pipeline[:-1][0]) if len(self.pipeline) == 2 else None

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(bad) for each row, as a 1-D array; extra columns (e.g. the label) are ignored."""
        columns = coerce_columns(frame)
        if self._fast is not None:
            # The same arithmetic as the pipeline's preprocessing, without its per-call
            # overhead: what the service spends on one record.
            inputs = self._fast.transform(columns)
            probabilities = self.pipeline[-1].predict_proba(inputs)
        else:
            probabilities = self.pipeline.predict_proba(pd.DataFrame(columns, index=frame.index))
        column = list(self.pipeline.classes_).index(POSITIVE)
        return np.asarray(probabilities[:, column], dtype=float)

    def labels(self, probabilities: np.ndarray) -> list[str]:
        """ "bad" where P(bad) >= threshold, else "good"."""
        return [POSITIVE if p >= self.threshold else NEGATIVE for p in probabilities]

    def predict_label(self, frame: pd.DataFrame) -> list[str]:
        """The predicted label of each row at the model's threshold."""
        return self.labels(self.predict_proba(frame))


def load_model(artifact: str | Path) -> CreditModel:
    """Load an artifact directory, refusing a model file whose sha256 differs from its metadata."""
    directory = Path(artifact)
    model_path = directory / MODEL_FILE
    if not model_path.is_file():
        raise FileNotFoundError(f"no {MODEL_FILE} in artifact directory {directory}")
    metadata = read_metadata(directory)
    actual = sha256_file(model_path)
    if actual != metadata.artifact_sha256:
        raise ValueError(
            f"{model_path}: sha256 {actual} does not match {METADATA_FILE} "
            f"({metadata.artifact_sha256}); the model file was altered or is from another artifact"
        )
    # Unpickling only after the digest check: the file is exactly the one trained.
    pipeline = joblib.load(model_path)
    return CreditModel(pipeline=pipeline, metadata=metadata)
