"""Fixtures for the micro-benchmarks: the model under test and golden rows to score.

The model is the artifact the harness names in $HARNESS_MODEL_ARTIFACT (its
``model.artifact``); run alone, the suite trains the reference model (seed 0) once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from credit_model.model import CreditModel, load_model
from credit_model.train import train

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = REPO_ROOT / "golden" / "credit" / "v1" / "credit.csv"
BATCH = 256


@pytest.fixture(scope="session")
def model(tmp_path_factory: pytest.TempPathFactory) -> CreditModel:
    artifact = os.environ.get("HARNESS_MODEL_ARTIFACT")
    if not artifact or not Path(artifact).exists():
        artifact = train(REPO_ROOT / "fixtures/credit/train.csv",
                         tmp_path_factory.mktemp("model") / "credit", seed=0)
    return load_model(artifact)


@pytest.fixture(scope="session")
def golden() -> pd.DataFrame:
    return pd.read_csv(GOLDEN).drop(columns=["Status"])


@pytest.fixture(scope="session")
def records(golden: pd.DataFrame) -> list[dict[str, Any]]:
    """A batch of golden rows as the service receives them: JSON-like dicts, None for NaN."""
    frame = golden.head(BATCH).astype(object)
    return frame.where(frame.notna(), None).to_dict(orient="records")
