"""The outcome of one gate criterion, as every check kind reports it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class GateResult:
    """One criterion's outcome; ``properties`` become JUnit testcase properties."""

    passed: bool
    message: str
    properties: dict[str, str] = field(default_factory=dict)
    skipped: bool = False


def fmt(value: float) -> str:
    """Format a measured figure the same way in messages and properties."""
    return f"{value:.4f}"


@dataclass(frozen=True)
class GateSpec:
    """One gate criterion to become a test item: where it sits in the JUnit tree
    (``<suite>.<dataset>`` / ``criterion``), what to load first (failures there are
    errors), and how to judge it."""

    suite: str
    dataset: str
    criterion: str
    prepare: Callable[[], Any]
    judge: Callable[[], GateResult]
