"""Metric names beyond the gate keys: ``recall_per_class`` stands for one recall per
class, ``recall[<class>]``, each its own testcase and passport figure."""

from __future__ import annotations

from typing import Any

PER_CLASS = "recall_per_class"


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
