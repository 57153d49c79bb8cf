"""pytest plugin: turns ``harness.yaml`` into one test item per gate criterion.

pytest collects a file named ``harness.yaml`` (or ``harness.yml``) through this
plugin. Each gate criterion the profile's checks describe (a schema rule per
dataset, a quality metric per golden dataset and slice, ...) becomes its own item, with a node id pytest's JUnit writer turns into
``classname="<check>.<dataset>[.<slice>]"`` and ``name="<criterion>"`` so Jenkins shows a
readable tree. Measured values and bounds travel as testcase properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config import ProfileSpec, load_config
from harness.errors import HarnessError
from harness.gates import benchmark, contract, deepchecks_suite, drift, load, quality, schema
from harness.gates.outcome import Outcome
from harness.gates.result import GateSpec
from harness.gates.state import GateState

CONFIG_NAMES = ("harness.yaml", "harness.yml")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "model gates from harness.yaml")
    group.addoption(
        "--harness-config",
        default=None,
        help="collect this configuration file too, whatever its name",
    )
    group.addoption(
        "--harness-profile",
        default=None,
        help="run only the checks this profile of harness.yaml names (default: all)",
    )
    group.addoption(
        "--harness-reports",
        default=None,
        help="folder for the load and benchmark checks' own reports "
        "(default: reports/pytest beside the configuration)",
    )
    group.addoption(
        "--harness-target-url",
        default=None,
        help="URL of the running service the load check targets (default: load.url, model.url)",
    )


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    named = parent.config.getoption("harness_config")
    if file_path.name in CONFIG_NAMES or (named and file_path == Path(named).resolve()):
        return HarnessFile.from_parent(parent, path=file_path)
    return None


class GateFailure(Exception):
    """A gate criterion was not met; the message says what was measured against what."""


class GateSetupError(Exception):
    """What a gate needs could not be loaded (data, model, baseline); reported as an error."""


# Each kind of check turns the config into gate criteria; a profile picks kinds by name.
CHECKS: dict[str, Callable[[GateState], Iterator[GateSpec]]] = {
    "schema": schema.gates,
    "quality": quality.gates,
    "drift": drift.gates,
    "load": load.gates,
    "benchmark": benchmark.gates,
    "deepchecks": deepchecks_suite.gates,
    "contract": contract.gates,
}


class HarnessFile(pytest.File):
    """A harness configuration file, collected as the gate items it describes."""

    def collect(self) -> Iterator[GateItem]:
        try:
            config = load_config(self.path)
            profile_name = self.config.getoption("harness_profile")
            if profile_name:
                profile = config.profile(profile_name)
            else:
                profile_name, profile = "adhoc", ProfileSpec(checks=["schema", "quality"])
        except HarnessError as exc:
            raise self.CollectError(str(exc)) from None
        reports = self.config.getoption("harness_reports")
        state = GateState(config, profile_name, profile,
                          reports=Path(reports).resolve() if reports else None,
                          target_url=self.config.getoption("harness_target_url"))
        try:
            for check in profile.checks:
                for gate in CHECKS[check](state):
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
            raise GateSetupError(f"{type(exc).__name__}: {exc}") from None

    def runtest(self) -> None:
        result = self._gate.judged()
        self.user_properties.extend(result.properties.to_pairs())
        if result.outcome is Outcome.SKIPPED:
            pytest.skip(result.message)
        if result.outcome is not Outcome.PASSED:
            raise GateFailure(result.message)

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
