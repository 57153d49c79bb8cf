"""Schema inference for `harness init`: a column's dtype, nulls, allowed values for a few
strings (or a column named categorical), and the observed range of a numeric one."""

from __future__ import annotations

import pandas as pd

from harness.data.schema_inference import MAX_ALLOWED_VALUES, infer_columns


def test_each_column_gets_its_dtype_range_or_allowed_values() -> None:
    frame = pd.DataFrame({
        "age": [21, 35, 64, 40],
        "income": [1200.5, 3000.0, None, 800.25],
        "job": ["fixed", "none", "fixed", "part"],
        "grade": [1, 2, 3, 1],
    })
    columns = infer_columns(frame, categorical={"grade"})
    assert columns == {
        "age": {"dtype": "integer", "min": 21, "max": 64},
        "income": {"dtype": "number", "nullable": True, "min": 800.25, "max": 3000},
        "job": {"dtype": "string", "allowed": ["fixed", "none", "part"]},
        "grade": {"dtype": "integer", "allowed": [1, 2, 3]},
    }
    assert all(type(v) is int for v in columns["grade"]["allowed"]), "plain ints for YAML"


def test_free_text_gets_no_allowed_values() -> None:
    frame = pd.DataFrame({"note": [f"note {i}" for i in range(MAX_ALLOWED_VALUES + 1)]})
    assert infer_columns(frame) == {"note": {"dtype": "string"}}
