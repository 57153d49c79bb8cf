"""The fast preprocessing path gives exactly the pipeline's scores, and steps it does not
reproduce fall back to the pipeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from credit_model.fast_path import FastPreprocess
from credit_model.features import FEATURES, POSITIVE, coerce_frame, records_to_frame
from credit_model.model import CreditModel, load_model
from sklearn.impute import SimpleImputer

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "credit" / "v1" / "credit.csv"


def _pipeline_scores(model: CreditModel, frame: pd.DataFrame) -> np.ndarray:
    column = list(model.pipeline.classes_).index(POSITIVE)
    return model.pipeline.predict_proba(coerce_frame(frame))[:, column]


def test_fast_path_is_used_and_scores_exactly_as_the_pipeline(artifact: Path,
                                                              train_data: Path) -> None:
    model = load_model(artifact)
    assert FastPreprocess.compile(model.pipeline[0]) is not None
    for frame in (pd.read_csv(train_data), pd.read_csv(GOLDEN)):
        assert np.array_equal(model.predict_proba(frame), _pipeline_scores(model, frame))


def test_missing_and_unknown_values_score_as_the_pipeline(artifact: Path,
                                                          application: dict) -> None:
    model = load_model(artifact)
    records = [
        application,
        {**application, "Home": None, "Marital": None, "Job": None, "Income": None,
         "Assets": None, "Debt": None},
        {**application, "Home": "boat", "Job": "astronaut"},  # unknown: all-zero one-hot
        {**application, "Income": "129.5", "Seniority": "9"},  # text numbers are parsed
    ]
    frame = records_to_frame(records)
    assert np.array_equal(model.predict_proba(frame), _pipeline_scores(model, frame))
    single = pd.DataFrame({c: [records[1][c]] for c in FEATURES})
    assert np.array_equal(model.predict_proba(single), _pipeline_scores(model, single))


def test_steps_it_does_not_reproduce_fall_back_to_the_pipeline(artifact: Path,
                                                               train_data: Path) -> None:
    model = load_model(artifact)
    numeric = model.pipeline[0].named_transformers_["numeric"]
    assert isinstance(numeric, SimpleImputer)
    numeric.strategy = "mean"  # a step the fast path does not know; its fit is unchanged
    assert FastPreprocess.compile(model.pipeline[0]) is None
    frame = pd.read_csv(train_data).head(50)
    assert np.array_equal(model.predict_proba(frame), _pipeline_scores(model, frame))
