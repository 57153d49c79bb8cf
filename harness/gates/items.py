"""The gate items a ``harness.yaml`` is collected as: one per gate criterion.

Imported by the plugin only when pytest finds a configuration file, so a pytest session
that runs no gates never loads the config, the checks or their libraries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import ProfileSpec, load_config
from harness.errors import HarnessError
from harness.gates.checks import check
from harness.gates.context import RunContext
from harness.gates.outcome import Outcome
from harness.gates.result import GateSpec
from harness.gates.state import GateState
from harness.text import MESSAGE_LIMIT, clip


class GateFailure(Exception):
    """A gate criterion was not met; the message says what was measured against what."""


class GateSetupError(Exception):
    """What a gate needs could not be loaded (data, model, baseline); reported as an error."""


class HarnessFile(pytest.File):
    """A harness configuration file, collected as the gate items it describes."""

    _state: GateState | None = None

    def teardown(self) -> None:
        # pytest tears the file down once its last gate item has run (or at the end of a
        # session cut short), before the next file's tests.
        if self._state is not None:
            self._state.finished()

    def collect(self) -> Iterator[GateItem]:
        reports = self.config.getoption("harness_reports")
        target_url = self.config.getoption("harness_target_url")
        try:
            config = load_config(self.path)
            remote_workers = self.config.getoption("harness_remote_workers")
            master_bind = self.config.getoption("harness_master_bind")
            if remote_workers is not None or master_bind is not None:
                from harness.load.worker import distributed

                config = distributed(config, remote_workers, master_bind)
            profile_name = self.config.getoption("harness_profile")
            if profile_name:
                context = RunContext.resolve(config, profile_name, target_url,
                                             Path(reports) if reports else None)
            else:  # a bare `pytest harness.yaml`: the checks that need no deployment
                context = RunContext(config, "adhoc", ProfileSpec(checks=["schema", "quality"]),
                                     target_url, "--harness-target-url" if target_url else None,
                                     Path(reports).absolute() if reports else None)
        except HarnessError as exc:
            raise self.CollectError(str(exc)) from None
        state = self._state = GateState(context)
        try:
            for name in context.profile.checks:
                for gate in check(name).gates(state):
                    yield GateItem.from_parent(
                        self,
                        name=f"{gate.classname}.{gate.criterion}",
                        nodeid=f"{gate.classname}::{gate.criterion}",
                        gate=gate,
                    )
        except HarnessError as exc:  # a check that cannot describe its gates, e.g. no baseline
            raise self.CollectError(str(exc)) from None


class GateItem(pytest.Item):
    """One gate criterion. Loading data or the model happens in setup, so a crash there
    is reported as an error; a criterion that is not met is a failure."""

    def __init__(self, *, gate: GateSpec, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gate = gate

    def setup(self) -> None:
        try:
            self._gate.prepare()
        except HarnessError as exc:
            # The message says what to fix; a traceback per item would bury it.
            raise GateSetupError(clip(f"{type(exc).__name__}: {exc}", MESSAGE_LIMIT)) from None

    def runtest(self) -> None:
        result = self._gate.judged()
        self.user_properties.extend(result.properties.to_pairs())
        # Whatever a message quotes, a testcase stays small (each value is clipped where
        # it is quoted; this bounds the whole).
        message = clip(result.message, MESSAGE_LIMIT)
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(message)
        if result.outcome is not Outcome.PASSED:
            raise GateFailure(message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, (GateFailure, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def _traceback_filter(self, excinfo: pytest.ExceptionInfo[BaseException]) -> Any:
        # A gate's own errors carry their whole story in the message: show one frame,
        # which also spares pytest from parsing every module on the stack per item.
        if isinstance(excinfo.value, (GateFailure, GateSetupError)):
            return excinfo.traceback[-1:]
        return super()._traceback_filter(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
