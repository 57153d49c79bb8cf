"""Validated records as the frame a model is given: typed as the harness reads data.

Left to pandas' inference, a column's dtype depends on the records that share the call: a
string column of one record whose value is null is ``object`` holding ``None``, which
scikit-learn's ``SimpleImputer`` does not see as missing, while the same row among others,
or read from a CSV file, is a string column holding NaN, which it imputes. A record's score
then depends on its company. Here every column has the dtype ``pandas.read_csv`` gives its
schema type, and a missing value is NaN, whatever the other records hold.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from harness.config import ColumnRule

# The dtype pandas gives text: "str" from pandas 3, object before.
_TEXT = pd.Series(["text"]).dtype


def _column(values: list[Any], rule: ColumnRule) -> Any:
    gap = any(v is None for v in values)
    if rule.dtype == "string":
        return pd.array([np.nan if v is None else v for v in values] if gap else values,
                        dtype=_TEXT)
    if not gap:
        return values  # integers stay int64, numbers float64, booleans bool
    if rule.dtype == "boolean":  # read_csv: object, NaN where a value is missing
        return np.array([np.nan if v is None else v for v in values], dtype=object)
    return np.array(values, dtype=float)  # integers with a gap are float64, as read_csv's


def records_frame(records: list[BaseModel], rules: dict[str, ColumnRule]) -> pd.DataFrame:
    """One row per record, one column per rule, in the rules' order."""
    return pd.DataFrame({name: _column([getattr(r, name) for r in records], rule)
                         for name, rule in rules.items()}, copy=False)
