"""The model kind a label column implies, for ``harness init``."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api import types

# An integer-valued label with more distinct values than this is a quantity, not a class.
_MAX_CLASSES = 20


def infer_kind(labels: pd.Series) -> str:
    """The model kind a label column implies: two values make a binary classifier; text,
    booleans or a few integer values a multiclass one; other numbers a regression."""
    values = labels.dropna()
    distinct = values.nunique()
    if distinct <= 2:
        return "binary"
    if types.is_bool_dtype(values) or not types.is_numeric_dtype(values):
        return "multiclass"
    numbers = values.to_numpy(dtype=float)
    integral = bool(np.all(numbers == np.round(numbers)))
    return "multiclass" if integral and distinct <= _MAX_CLASSES else "regression"
