"""Which label values a binary model's data may hold: the positive label and known negatives.

A value that is neither would be scored as a negative without a word (a third class, a
typo, an empty cell) and move every metric; it is refused instead, by file line and value.
The known negatives are the label column's ``allowed`` values in the schema other than
the positive label; without ``allowed``, the data may hold one other value, which is then
the negative.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from harness.config import HarnessConfig

_EXAMPLES = 3


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
    return "an empty cell" if pd.isna(value) else repr(value.item() if hasattr(value, "item")
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
