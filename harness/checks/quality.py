"""Quality gates: a metric measured on a golden dataset must hold its floor or ceiling."""

from __future__ import annotations

import math

import numpy as np

from harness import metrics
from harness.checks.result import GateResult, fmt
from harness.config import MetricGate


def check_metric(
    name: str, gate: MetricGate, y_true: np.ndarray, scores: np.ndarray, threshold: float,
    dataset: str,
) -> GateResult:
    """Measure ``name`` on the rows and judge it against the gate's bounds."""
    value = metrics.compute(name, y_true, scores, threshold)
    props = {"metric": name, "dataset": dataset, "value": fmt(value), "rows": str(len(y_true))}
    where = f"'{dataset}'"
    if name in ("precision", "recall", "accuracy", "f1"):
        props["decision_threshold"] = str(threshold)
    if math.isnan(value):
        return GateResult(False, f"{name} is undefined on {where}: it holds one class only", props)
    problems = []
    if gate.min is not None:
        props["min"] = fmt(gate.min)
        if value < gate.min:
            problems.append(f"below its floor {fmt(gate.min)}")
    if gate.max is not None:
        props["max"] = fmt(gate.max)
        if value > gate.max:
            problems.append(f"above its ceiling {fmt(gate.max)}")
    measured = f"{name} = {fmt(value)} on {where} ({len(y_true)} rows)"
    if problems:
        return GateResult(False, f"{measured}, {' and '.join(problems)}", props)
    bounds = " and ".join(
        b for b in (gate.min is not None and f">= {fmt(gate.min)}",
                    gate.max is not None and f"<= {fmt(gate.max)}") if b
    )
    return GateResult(True, f"{measured}, within {bounds}", props)
