"""Model kinds (binary, multiclass, regression): which metrics each has, which way each
metric is better, and how a kind is inferred from a label column."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # imported where used: the config validates metric names with this module
    import pandas as pd

Kind = Literal["binary", "multiclass", "regression"]
KINDS: tuple[Kind, ...] = ("binary", "multiclass", "regression")

# The gate keys each kind accepts under ``gates.quality``. ``recall_per_class`` expands to
# one metric per class, ``recall[<class>]``, each its own testcase.
METRICS: dict[Kind, tuple[str, ...]] = {
    "binary": ("roc_auc", "log_loss", "brier", "precision", "recall", "accuracy", "f1"),
    "multiclass": ("log_loss", "accuracy", "f1_macro", "f1_weighted", "roc_auc_ovr",
                   "recall_per_class"),
    "regression": ("rmse", "mae", "r2", "abs_error_p50", "abs_error_p90", "abs_error_p95",
                   "abs_error_p99"),
}
PER_CLASS = "recall_per_class"
_LOWER_IS_BETTER = {"log_loss", "brier", "rmse", "mae", "abs_error_p50", "abs_error_p90",
                    "abs_error_p95", "abs_error_p99"}
# An integer-valued label with more distinct values than this is a quantity, not a class.
_MAX_CLASSES = 20


def higher_is_better(metric: str) -> bool:
    """Whether a larger figure is better: errors and losses are worse when larger."""
    return base_metric(metric) not in _LOWER_IS_BETTER


def base_metric(metric: str) -> str:
    """The metric a per-class name stands for: ``recall[setosa]`` -> ``recall``."""
    return metric.split("[", 1)[0]


def class_metric(label: Any) -> str:
    """The name of one class's recall, as its testcase and passport figure are named."""
    return f"recall[{label}]"


def class_of(metric: str) -> str | None:
    """The class a per-class metric names (``None`` for other metrics)."""
    if "[" not in metric or not metric.endswith("]"):
        return None
    return metric[metric.index("[") + 1 : -1]


def expand(gate_keys: list[str], classes: list[Any]) -> list[str]:
    """Metric names for gate keys: ``recall_per_class`` becomes one name per class."""
    names: list[str] = []
    for key in gate_keys:
        names.extend(class_metric(c) for c in classes) if key == PER_CLASS else names.append(key)
    return names


def sorted_classes(values: Any) -> list[Any]:
    """Class labels in the order scikit-learn's ``classes_`` would hold them (sorted)."""
    import numpy as np
    import pandas as pd

    unique = [v.item() if isinstance(v, np.generic) else v for v in pd.unique(pd.Series(values))]
    unique = [v for v in unique if not (isinstance(v, float) and np.isnan(v))]
    try:
        return sorted(unique)
    except TypeError:  # mixed types: an order that is at least stable
        return sorted(unique, key=str)


def infer_kind(labels: pd.Series) -> str:
    """The model kind a label column implies: two values make a binary classifier; text,
    booleans or a few integer values a multiclass one; other numbers a regression."""
    import numpy as np
    from pandas.api import types

    values = labels.dropna()
    distinct = values.nunique()
    if distinct <= 2:
        return "binary"
    if types.is_bool_dtype(values) or not types.is_numeric_dtype(values):
        return "multiclass"
    numbers = values.to_numpy(dtype=float)
    integral = bool(np.all(numbers == np.round(numbers)))
    return "multiclass" if integral and distinct <= _MAX_CLASSES else "regression"
