"""Fixtures for the team's own unit tests: a small trained artifact."""

from __future__ import annotations

from pathlib import Path

import pytest
from credit_model.train import train

REPO_ROOT = Path(__file__).resolve().parents[2]
TRAIN_DATA = REPO_ROOT / "fixtures" / "credit" / "train.csv"
# Small sample: these tests check behaviour, not quality, and must stay fast.
SAMPLE_ROWS = 600


@pytest.fixture(scope="session")
def train_data() -> Path:
    return TRAIN_DATA


@pytest.fixture(scope="session")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(
        TRAIN_DATA, tmp_path_factory.mktemp("artifact") / "credit", seed=0, sample=SAMPLE_ROWS
    )


@pytest.fixture
def application() -> dict[str, object]:
    """A valid credit application (the first row of the training data)."""
    return {
        "Seniority": 9,
        "Home": "rent",
        "Time": 60,
        "Age": 30,
        "Marital": "married",
        "Records": "no",
        "Job": "freelance",
        "Expenses": 73,
        "Income": 129.0,
        "Assets": 0.0,
        "Debt": 0.0,
        "Amount": 800,
        "Price": 846,
    }
