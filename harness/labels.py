"""Label columns read for multiclass and regression models, refusing what cannot be
scored with a message naming the dataset and the values."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from harness.errors import DatasetError

_EXAMPLES = 3


def unknown_classes(column: pd.Series, classes: list[Any]) -> list[str]:
    """Label values (as text) that are none of ``classes``, in order of appearance."""
    known = {str(c) for c in classes}
    values = column.dropna().astype(str)
    return list(dict.fromkeys(v for v in values if v not in known))


def class_numbers(column: pd.Series, classes: list[Any], dataset: str) -> np.ndarray:
    """Each label's column in the probability matrix (labels compared as text, so a CSV's
    ``1`` and a model's class ``1`` match)."""
    unknown = unknown_classes(column, classes)
    if column.isna().any() or unknown:
        what = (f"classes the model does not know ({', '.join(unknown[:_EXAMPLES])})" if unknown
                else "missing labels")
        raise DatasetError(
            f"dataset '{dataset}': label column '{column.name}' holds {what}; the model's "
            f"classes are {', '.join(map(str, classes))} (see the schema check)"
        )
    position = {str(c): i for i, c in enumerate(classes)}
    return column.astype(str).map(position).to_numpy(dtype=int)


def regression_targets(column: pd.Series, dataset: str) -> np.ndarray:
    """The targets as finite numbers."""
    values = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        examples = ", ".join(repr(v) for v in column[bad].head(_EXAMPLES))
        raise DatasetError(
            f"dataset '{dataset}': label column '{column.name}' has {int(bad.sum())} values that "
            f"are not finite numbers (e.g. {examples})"
        )
    return values
