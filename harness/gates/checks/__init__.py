"""The checks a profile can run: one module per check in this package, found by its name.

A module here is a check because it is here: a new check is one new module, and ``CHECKS``
is the only list of them. Each check module defines (``Check`` below):

- ``gates(state)``: its criteria, each one gate item (a JUnit testcase);
- ``problems(context)``: what preflight checks before anything runs, by the config key that
  names each problem (``[]`` when the check reads only what every check reads);
- ``READS_DATA`` and ``CALLS_MODEL``: whether preflight checks the datasets and the model
  (its entry point and artifact, or its URL) on the check's behalf.

Standard library only: the configuration checks profiles' names against ``CHECKS``, and the
pytest plugin, loaded in every pytest session, looks checks up here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, cast

if TYPE_CHECKING:
    from harness.gates.context import RunContext
    from harness.gates.inputs import Problem
    from harness.gates.result import GateSpec
    from harness.gates.state import GateState

CHECKS: tuple[str, ...] = tuple(sorted(
    module.name for module in pkgutil.iter_modules(__path__) if not module.name.startswith("_")
))


class Check(Protocol):
    """What a check module provides."""

    READS_DATA: bool
    CALLS_MODEL: bool

    def gates(self, state: GateState) -> Iterator[GateSpec]: ...

    def problems(self, context: RunContext) -> list[Problem]: ...


def check(name: str) -> Check:
    """The check module a profile names (imported on first use: checks import heavy
    libraries, and a session imports only those its profile runs)."""
    if name not in CHECKS:
        raise KeyError(f"no check named '{name}'; the checks are {', '.join(CHECKS)}")
    return cast("Check", importlib.import_module(f"{__name__}.{name}"))
