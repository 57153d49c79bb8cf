"""Model inference speed: one row (the /predict path) and a batch (the /predict/batch path)."""

from __future__ import annotations

import pandas as pd
import pytest
from credit_model.model import CreditModel

pytestmark = pytest.mark.benchmark(group="inference")


def test_one_row(benchmark, model: CreditModel, golden: pd.DataFrame) -> None:
    row = golden.head(1)
    scores = benchmark(model.predict_proba, row)
    assert scores.shape == (1,)


def test_batch(benchmark, model: CreditModel, golden: pd.DataFrame) -> None:
    batch = golden.head(256)
    scores = benchmark(model.predict_proba, batch)
    assert scores.shape == (len(batch),)
