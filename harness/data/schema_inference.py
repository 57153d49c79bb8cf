"""Infer a data schema (``schema.columns``) from a data set, with pandera's inference.

pandera infers each column's dtype, whether it holds nulls, and the observed range of
numeric columns; columns with few distinct values are handed to it as categoricals, so
it infers their allowed values too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from pandera.schema_inference.pandas import infer_schema

from harness.data.golden import column_kind

MAX_ALLOWED_VALUES = 20  # more distinct strings than this: free text, not a category


def _dtype(series: pd.Series) -> str:
    """The schema's dtype: a float column is a `number` (it accepts whole numbers too)."""
    dtype_kind = column_kind(series)
    return "number" if dtype_kind == "float" else dtype_kind


def _plain(value: Any) -> Any:
    """A YAML-friendly scalar: numpy scalars become Python ones, whole floats ints."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def infer_columns(frame: pd.DataFrame, categorical: set[str] = frozenset()) -> dict[str, dict]:
    """``schema.columns`` for ``frame``: dtype, nullable, and ``allowed`` values for string
    (and ``categorical``) columns with at most ``MAX_ALLOWED_VALUES`` values, else a
    ``min``/``max`` range for numeric ones."""
    prepared = frame.copy()
    for name in frame.columns:
        few = frame[name].nunique(dropna=True) <= MAX_ALLOWED_VALUES
        if few and (_dtype(frame[name]) == "string" or name in categorical):
            prepared[name] = frame[name].astype("category")
    inferred = infer_schema(prepared)
    columns: dict[str, dict] = {}
    for name in frame.columns:
        column = inferred.columns[name]
        rule: dict[str, Any] = {"dtype": _dtype(frame[name])}
        if column.nullable:
            rule["nullable"] = True
        for check in column.checks:
            stats = check.statistics
            if check.name == "isin":
                rule["allowed"] = sorted(_plain(v) for v in stats["allowed_values"])
            elif check.name == "greater_than_or_equal_to":
                rule["min"] = _plain(stats["min_value"])
            elif check.name == "less_than_or_equal_to":
                rule["max"] = _plain(stats["max_value"])
        if "allowed" in rule:
            rule.pop("min", None)
            rule.pop("max", None)
        columns[str(name)] = rule
    return columns
