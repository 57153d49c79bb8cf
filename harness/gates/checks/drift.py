"""Slow drift: a metric that keeps sliding over the last runs, even when each run passed.

The current run's figure is judged with the figures the same profile recorded for the
same gate in the history store: it is flagged when it worsened at every one of the last
``window`` runs and by at least ``min_total_change`` in all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

from harness.config import DriftSpec
from harness.gates.checks.quality import metric_gates
from harness.gates.context import RunContext
from harness.gates.inputs import Problem
from harness.gates.outcome import Outcome
from harness.gates.properties import Figure, GateProperties
from harness.gates.result import GateResult, GateSpec, fmt
from harness.kinds import higher_is_better

if TYPE_CHECKING:
    from harness.gates.state import GateState


READS_DATA = True
CALLS_MODEL = False


def problems(context: RunContext) -> list[Problem]:
    """Nothing of its own: the datasets are checked for every check that reads them."""
    return []


def check_drift(metric: str, series: list[float], spec: DriftSpec, dataset: str) -> GateResult:
    """Judge a metric's figures, oldest first, the current run's last."""
    recent = series[-spec.window:]
    props = GateProperties(metric=metric, dataset=dataset, window=spec.window,
                           series=" ".join(fmt(v) for v in recent))
    if len(recent) < spec.window:
        return GateResult(Outcome.SKIPPED, f"{metric} on '{dataset}': {len(recent)} runs in "
                                           f"history, {spec.window} needed to judge drift", props)
    sign = 1 if higher_is_better(metric) else -1
    steps = [sign * (b - a) for a, b in itertools.pairwise(recent)]
    total = sign * (recent[-1] - recent[0])
    props = replace(props, value=Figure.of(recent[-1]), total_change=Figure.of(total, "+.4f"),
                    min_total_change=Figure.of(spec.min_total_change))
    trend = " -> ".join(fmt(v) for v in recent)
    if all(step < 0 for step in steps) and -total >= spec.min_total_change:
        return GateResult(Outcome.FAILED, f"{metric} on '{dataset}' worsened in each of the "
                                          f"last {spec.window} runs ({trend}), by "
                                          f"{fmt(-total)} in all", props)
    return GateResult(Outcome.PASSED, f"{metric} on '{dataset}' is not sliding ({trend})", props)


def gates(state: GateState) -> Iterator[GateSpec]:
    config = state.config
    spec = config.gates.drift
    for dataset in config.golden:
        name = dataset.name
        for metric, _ in metric_gates(state, name):
            def judge(metric=metric, name=name) -> GateResult:
                previous = state.history().metric_series(
                    state.profile_name, name, metric, f"quality.{name}::{metric}",
                    spec.window - 1)
                current = state.evaluation(name).estimate(metric).value
                return check_drift(metric, [v for _, v in previous] + [current], spec, name)

            yield GateSpec("drift", name, metric,
                           lambda name=name: (state.evaluation(name), state.history()), judge)
