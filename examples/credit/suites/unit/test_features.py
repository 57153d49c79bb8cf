"""The feature schema: frames built from records, and what CreditApplication refuses."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from credit_model.features import (
    CATEGORICAL,
    CATEGORY_VALUES,
    FEATURES,
    LABEL,
    NULLABLE,
    NUMERIC,
    CreditApplication,
    records_to_frame,
)
from pydantic import ValidationError


def test_schema_lists_are_consistent() -> None:
    assert LABEL not in FEATURES
    assert sorted(NUMERIC + CATEGORICAL) == sorted(FEATURES)
    assert set(CATEGORY_VALUES) == set(CATEGORICAL)
    assert list(CreditApplication.model_fields) == FEATURES


def test_records_to_frame_orders_columns_and_types(application: dict) -> None:
    frame = records_to_frame([application, application])
    assert list(frame.columns) == FEATURES
    assert len(frame) == 2
    assert frame["Age"].dtype == "int64"
    assert frame["Income"].dtype == "float64"
    assert pd.api.types.is_string_dtype(frame["Home"])  # object in pandas 2, str in 3


def test_records_to_frame_missing_values_become_nan(application: dict) -> None:
    record = {k: v for k, v in application.items() if k not in ("Home", "Income")}
    record["Job"] = None
    frame = records_to_frame([record])
    assert math.isnan(frame.loc[0, "Income"])
    assert pd.isna(frame.loc[0, "Home"]) and pd.isna(frame.loc[0, "Job"])
    assert frame.loc[0, "Records"] == "no"


def test_records_to_frame_ignores_extra_keys(application: dict) -> None:
    frame = records_to_frame([{**application, "Status": "good"}])
    assert list(frame.columns) == FEATURES


def test_valid_application_accepted_with_nulls(application: dict) -> None:
    for field in NULLABLE:
        assert getattr(CreditApplication(**{**application, field: None}), field) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Age", 12),
        ("Age", 150),
        ("Amount", -1),
        ("Income", -5.0),
        ("Time", "sixty"),
        ("Home", "castle"),
        ("Records", "maybe"),
        ("Records", None),
    ],
)
def test_application_rejects_bad_value(application: dict, field: str, value: object) -> None:
    with pytest.raises(ValidationError) as raised:
        CreditApplication(**{**application, field: value})
    assert raised.value.errors()[0]["loc"][0] == field


def test_application_rejects_missing_required(application: dict) -> None:
    del application["Age"]
    with pytest.raises(ValidationError) as raised:
        CreditApplication(**application)
    assert raised.value.errors()[0]["loc"] == ("Age",)


def test_application_rejects_extra_field(application: dict) -> None:
    with pytest.raises(ValidationError) as raised:
        CreditApplication(**{**application, "Colour": "blue"})
    assert raised.value.errors()[0]["loc"] == ("Colour",)
