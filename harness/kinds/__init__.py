"""Model kinds (binary, multiclass, regression), each a ``Kind`` found by name: its metrics,
which way each is better and the values each can take, how its model is called and its
answer read, and how its labels are read. Everything the harness does differently per
kind is asked of the kind here; no other package compares kind names.

This face imports nothing heavy (the config reads it when it parses); the computations
are in ``metrics/``, ``outputs``, ``labels`` and ``inference``.
"""

from harness.kinds.base import Kind, Metric
from harness.kinds.binary import BINARY
from harness.kinds.multiclass import MULTICLASS
from harness.kinds.names import PER_CLASS, base_metric, class_metric, class_of, expand
from harness.kinds.registry import (
    KIND_NAMES,
    KINDS,
    METRIC_NAMES,
    METRICS,
    higher_is_better,
    kind_of,
    metric,
)
from harness.kinds.regression import REGRESSION

__all__ = [
    "BINARY",
    "KINDS",
    "KIND_NAMES",
    "METRICS",
    "METRIC_NAMES",
    "MULTICLASS",
    "PER_CLASS",
    "REGRESSION",
    "Kind",
    "Metric",
    "base_metric",
    "class_metric",
    "class_of",
    "expand",
    "higher_is_better",
    "kind_of",
    "metric",
]
