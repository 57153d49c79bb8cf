"""The credit-application feature schema, in one place.

Everything that needs to know the columns, their types, their allowed values
or how a record becomes a model input frame imports it from here.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

LABEL = "Status"
POSITIVE = "bad"
NEGATIVE = "good"
CLASSES = (NEGATIVE, POSITIVE)

INTEGER = ["Seniority", "Time", "Age", "Expenses", "Amount", "Price"]
FLOAT = ["Income", "Assets", "Debt"]
CATEGORICAL = ["Home", "Marital", "Records", "Job"]

# Column order of the source data, minus the label.
FEATURES = [
    "Seniority",
    "Home",
    "Time",
    "Age",
    "Marital",
    "Records",
    "Job",
    "Expenses",
    "Income",
    "Assets",
    "Debt",
    "Amount",
    "Price",
]
NUMERIC = [c for c in FEATURES if c in INTEGER or c in FLOAT]

CATEGORY_VALUES: dict[str, list[str]] = {
    "Home": ["owner", "rent", "parents", "other", "priv", "ignore"],
    "Marital": ["married", "single", "separated", "widow", "divorced"],
    "Records": ["no", "yes"],
    "Job": ["fixed", "freelance", "partime", "others"],
}

NULLABLE = ["Home", "Marital", "Job", "Income", "Assets", "Debt"]


class CreditApplication(BaseModel):
    """One credit application as the service accepts it."""

    # NaN/inf cannot pass the range checks meaningfully, so refuse them outright.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    Seniority: int = Field(ge=0, le=80, description="years with current employer")
    Home: Literal["owner", "rent", "parents", "other", "priv", "ignore"] | None = None
    Time: int = Field(ge=1, le=120, description="requested loan term, months")
    Age: int = Field(ge=18, le=100)
    Marital: Literal["married", "single", "separated", "widow", "divorced"] | None = None
    Records: Literal["no", "yes"]
    Job: Literal["fixed", "freelance", "partime", "others"] | None = None
    Expenses: int = Field(ge=0, le=10_000)
    Income: float | None = Field(default=None, ge=0, le=100_000)
    Assets: float | None = Field(default=None, ge=0, le=10_000_000)
    Debt: float | None = Field(default=None, ge=0, le=10_000_000)
    Amount: int = Field(ge=0, le=1_000_000)
    Price: int = Field(ge=0, le=10_000_000)


def coerce_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """FEATURES of `frame` as arrays with the dtypes the model was trained with (object
    categoricals with NaN for missing, int64/float64 numerics); extra columns such as the
    label are ignored."""
    missing = [c for c in FEATURES if c not in frame.columns]
    if missing:
        raise ValueError(f"frame lacks feature columns: {', '.join(missing)}")
    out: dict[str, np.ndarray] = {}
    for col in FEATURES:
        values = frame[col].to_numpy()
        if col in CATEGORICAL:
            values = values.astype(object)
            values[pd.isna(values)] = np.nan
            out[col] = values
            continue
        if values.dtype.kind not in "iuf":  # text, None or booleans: parse, bad -> NaN
            values = pd.to_numeric(values, errors="coerce")
        numbers = values.astype("float64")
        if col in INTEGER and not np.isnan(numbers).any():
            numbers = numbers.astype("int64")
        out[col] = numbers
    return out


def coerce_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Select FEATURES from `frame` (extra columns such as the label are ignored)
    and give them the dtypes the model was trained with.

    Training reads CSV and serving builds frames from JSON; both pass through
    here so the pipeline always sees the same dtypes (object categoricals with
    NaN for missing, int64/float64 numerics).
    """
    # One constructor call over ready arrays: assigning column by column cost ~5 ms a
    # call, most of a single record's scoring time.
    return pd.DataFrame(coerce_columns(frame), index=frame.index)


def records_to_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """Build a model-input frame from record dicts; absent or None values become NaN."""
    return coerce_frame(pd.DataFrame.from_records(list(records), columns=FEATURES))
