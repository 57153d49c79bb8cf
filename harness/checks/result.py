"""The outcome of one gate criterion, as every check kind reports it."""

from __future__ import annotations

from dataclasses import dataclass, field


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
