"""Reading label columns, refusing what cannot be scored with a message naming the data.

Binary: the values a model's data may hold are the positive label and known negatives. A
value that is neither would be scored as a negative without a word (a third class, a
typo, an empty cell) and move every metric; it is refused instead, by file line and value.
The known negatives are the label column's ``allowed`` values in the schema other than
the positive label; without ``allowed``, the data may hold one other value, which is then
the negative. Multiclass: every label must be a class of the model. Regression: every
target a finite number.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.errors import DatasetError
from harness.text import clip, clip_repr

if TYPE_CHECKING:  # kinds sit below the config, which validates metric names with them
    from harness.config import HarnessConfig

_EXAMPLES = 3


def sorted_classes(values: Any) -> list[Any]:
    """Class labels in the order scikit-learn's ``classes_`` would hold them (sorted)."""
    unique = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(pd.Series(values))]
    unique = [v for v in unique if not (isinstance(v, float) and np.isnan(v))]
    try:
        return sorted(unique)
    except TypeError:  # mixed types: an order that is at least stable
        return sorted(unique, key=str)


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
        what = (f"classes the model does not know ({', '.join(map(clip, unknown[:_EXAMPLES]))})" if unknown
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
        examples = ", ".join(clip_repr(v) for v in column[bad].head(_EXAMPLES))
        raise DatasetError(
            f"dataset '{dataset}': label column '{column.name}' has {int(bad.sum())} values that "
            f"are not finite numbers (e.g. {examples})"
        )
    return values


def known_negatives(config: HarnessConfig) -> list[Any] | None:
    """The schema's allowed label values other than the positive one; None when the schema
    does not list them."""
    rule = config.data_schema.columns.get(config.model.label_column)
    if rule is None or rule.allowed is None:
        return None
    positive = config.model.positive_label
    return [v for v in rule.allowed if v != positive]


def _line(frame_index: Any) -> int:
    # Line 1 of a CSV file is its header, so data row i is on line i + 2.
    return int(frame_index) + 2


def _shown(value: Any) -> str:
    return "an empty cell" if pd.isna(value) else clip_repr(value.item() if hasattr(value, "item")
                                                             else value)


def label_problem(labels: pd.Series, config: HarnessConfig) -> str | None:
    """Why these labels cannot be scored as positive/negative, naming lines and values;
    None when they can. Positive is decided as the evaluation decides it (``==``)."""
    spec = config.model
    where = f"label column '{spec.label_column}'"
    positive = labels == spec.positive_label
    negatives = known_negatives(config)
    if negatives is not None:
        unknown = ~positive & ~labels.isin(negatives)
        if unknown.any():
            rows = labels.index[unknown.to_numpy()]
            examples = ", ".join(f"{_shown(labels[i])} at line {_line(i)}"
                                 for i in rows[:_EXAMPLES])
            more = f" ({len(rows)} rows in all)" if len(rows) > _EXAMPLES else ""
            return (f"{where} holds {examples}{more}: neither model.positive_label "
                    f"{spec.positive_label!r} nor a known negative "
                    f"({', '.join(repr(v) for v in negatives)}); fix the data, or add the value "
                    f"to schema.columns.{spec.label_column}.allowed if it is a negative")
    else:
        others = labels[~positive]
        empty = others.isna()
        firsts = others[~empty].drop_duplicates()
        if empty.any() or len(firsts) > 1:
            shown = list(zip(firsts, firsts.index, strict=True))
            if empty.any():
                shown.append((None, others.index[empty.to_numpy()][0]))
            examples = ", ".join(f"{_shown(v)} (first at line {_line(i)})" for v, i in shown)
            return (f"{where} holds {examples} besides model.positive_label "
                    f"{spec.positive_label!r}; a binary label has one negative value and no "
                    "empty cells: fix the data, or list the labels under "
                    f"schema.columns.{spec.label_column}.allowed")
    if not positive.any():
        return (f"model.positive_label {spec.positive_label!r} appears in no row of {where}; "
                "check its spelling and type (a quoted '1' is not the number 1)")
    return None


def positive_indicator(column: pd.Series, config: HarnessConfig, dataset: str) -> np.ndarray:
    """A binary label column as 1 for the positive class, 0 for the other; labels that are
    neither are refused (scored as negative, they would move every metric without a word)."""
    problem = label_problem(column, config)
    if problem is not None:
        raise DatasetError(f"dataset '{dataset}': {problem}")
    return (column == config.model.positive_label).to_numpy(dtype=int)
