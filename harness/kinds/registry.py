"""The model kinds by name, and what their metrics share: one ``Metric`` per gate key,
whichever kinds accept it (tests check that kinds sharing a name agree on it)."""

from __future__ import annotations

from harness.kinds.base import Kind, Metric
from harness.kinds.binary import BINARY
from harness.kinds.multiclass import MULTICLASS
from harness.kinds.names import base_metric
from harness.kinds.regression import REGRESSION

KINDS: dict[str, Kind] = {k.name: k for k in (BINARY, MULTICLASS, REGRESSION)}
KIND_NAMES: tuple[str, ...] = tuple(KINDS)
# Every kind's gate keys, first seen first: the order the config's messages list them.
METRICS: dict[str, Metric] = {m.name: m for k in KINDS.values() for m in k.metrics}
METRIC_NAMES: tuple[str, ...] = tuple(METRICS)


def kind_of(name: str) -> Kind:
    """The kind ``model.kind`` names."""
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"no model kind {name!r}; the kinds are "
                         f"{', '.join(KIND_NAMES)}") from None


def metric(name: str) -> Metric | None:
    """The metric a name stands for (``recall[setosa]`` is a recall), of whichever kind."""
    return METRICS.get(base_metric(name))


def higher_is_better(name: str) -> bool:
    """Whether a larger figure is better: errors and losses are worse when larger."""
    found = metric(name)
    return found is None or found.higher_is_better
