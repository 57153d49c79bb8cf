"""Preprocessing speed: JSON records to a model frame, and the fitted feature transform."""

from __future__ import annotations

from typing import Any

import pytest
from credit_model.features import coerce_frame, records_to_frame
from credit_model.model import CreditModel

pytestmark = pytest.mark.benchmark(group="preprocessing")


def test_records_to_frame(benchmark, records: list[dict[str, Any]]) -> None:
    frame = benchmark(records_to_frame, records)
    assert len(frame) == len(records)


def test_feature_transform(benchmark, model: CreditModel,
                           records: list[dict[str, Any]]) -> None:
    frame = coerce_frame(records_to_frame(records))
    transformed = benchmark(model.pipeline["preprocess"].transform, frame)
    assert transformed.shape[0] == len(records)
