"""The outcome of one gate criterion, as every check kind reports it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties


@dataclass(frozen=True)
class GateResult:
    """One criterion's outcome; ``properties`` become JUnit testcase properties."""

    outcome: Outcome
    message: str
    properties: GateProperties = field(default_factory=GateProperties)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


def fmt(value: float) -> str:
    """Format a measured figure the same way in messages and properties."""
    return f"{value:.4f}"


@dataclass(frozen=True)
class GateSpec:
    """One gate criterion to become a test item: where it sits in the JUnit tree
    (``<suite>.<dataset>[.<segment>]`` / ``criterion``), what to load first (failures
    there are errors), and how to judge it."""

    suite: str
    dataset: str
    criterion: str
    prepare: Callable[[], Any]
    judge: Callable[[], GateResult]
    segment: str = ""  # a slice of the dataset; "" for all of it

    @property
    def classname(self) -> str:
        return ".".join(p for p in (self.suite, self.dataset, self.segment) if p)

    def judged(self) -> GateResult:
        """Judge the criterion; its properties say where it sits (dataset and segment),
        so readers need not parse the classname."""
        result = self.judge()
        props = result.properties
        return replace(result, properties=replace(
            props, dataset=props.dataset if props.dataset is not None else self.dataset,
            segment=props.segment if props.segment is not None else self.segment or "overall",
        ))
