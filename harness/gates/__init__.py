"""Built-in checks: each kind of gate criterion in its own module, with pure functions."""

from harness.gates.result import GateResult

__all__ = ["GateResult"]
