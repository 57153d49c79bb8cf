"""pytest plugin: turns ``harness.yaml`` into one test item per gate criterion.

pytest collects a file named ``harness.yaml`` (or ``harness.yml``) through this
plugin. Each schema rule, per dataset, and each quality metric, per golden
dataset, becomes its own item, with a node id pytest's JUnit writer turns into
``classname="<check>.<dataset>"`` and ``name="<criterion>"`` so Jenkins shows a
readable tree. Measured values and bounds travel as testcase properties.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.checks import quality, schema
from harness.checks.result import GateResult
from harness.config import HarnessConfig, load_config
from harness.datasets import Dataset, read_dataset
from harness.errors import HarnessError
from harness.models import Model, features, open_model

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


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    named = parent.config.getoption("harness_config")
    if file_path.name in CONFIG_NAMES or (named and file_path == Path(named).resolve()):
        return HarnessFile.from_parent(parent, path=file_path)
    return None


class GateFailure(Exception):
    """A gate criterion was not met; the message says what was measured against what."""


class _Memo:
    """Call a loader once; later calls return its value or raise its error again."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._outcome: tuple[bool, Any] | None = None

    def __call__(self) -> Any:
        if self._outcome is None:
            try:
                self._outcome = (True, self._load())
            except Exception as exc:
                self._outcome = (False, exc)
        ok, value = self._outcome
        if not ok:
            raise value
        return value


class GateState:
    """What a session's gate items share, each loaded once: datasets, the model, scores."""

    def __init__(self, config: HarnessConfig) -> None:
        self.config = config
        self._datasets = {
            spec.name: _Memo(lambda spec=spec: read_dataset(spec.name, config.resolve(spec.path)))
            for spec in config.datasets()
        }
        self._model = _Memo(lambda: open_model(config))
        self._scores = {name: _Memo(lambda name=name: self._score(name)) for name in self._datasets}

    def dataset(self, name: str) -> Dataset:
        return self._datasets[name]()

    def model(self) -> Model:
        return self._model()

    def scores(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Labels (1 = positive class) and the model's scores on dataset ``name``."""
        return self._scores[name]()

    def _score(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        spec = self.config.model
        frame = self.dataset(name).frame
        if spec.label_column not in frame.columns:
            raise HarnessError(
                f"dataset '{name}' has no label column '{spec.label_column}' (model.label_column)"
            )
        y_true = (frame[spec.label_column] == spec.positive_label).to_numpy(dtype=int)
        return y_true, self.model().predict_proba(features(frame, spec))


class HarnessFile(pytest.File):
    """A harness configuration file, collected as the gate items it describes."""

    def collect(self) -> Iterator[GateItem]:
        try:
            config = load_config(self.path)
            profile_name = self.config.getoption("harness_profile")
            checks = config.profile(profile_name).checks if profile_name else ["schema", "quality"]
        except HarnessError as exc:
            raise self.CollectError(str(exc)) from None
        state = GateState(config)
        if "schema" in checks:
            yield from self._schema_items(config, state)
        if "quality" in checks:
            yield from self._quality_items(config, state)

    def _item(self, suite: str, dataset: str, criterion: str, prepare: Callable[[], Any],
              judge: Callable[[], GateResult]) -> GateItem:
        return GateItem.from_parent(
            self,
            name=f"{suite}.{dataset}.{criterion}",
            nodeid=f"{suite}.{dataset}::{criterion}",
            prepare=prepare,
            judge=judge,
        )

    def _schema_items(self, config: HarnessConfig, state: GateState) -> Iterator[GateItem]:
        for spec in config.datasets():
            for column, rule in config.data_schema.columns.items():
                for kind in schema.rule_kinds(rule):
                    def judge(spec=spec, column=column, kind=kind, rule=rule) -> GateResult:
                        frame = state.dataset(spec.name).frame
                        return schema.check_rule(frame, column, kind, rule, spec.name)

                    yield self._item("schema", spec.name, f"{column}.{kind}",
                                     lambda spec=spec: state.dataset(spec.name), judge)

    def _quality_items(self, config: HarnessConfig, state: GateState) -> Iterator[GateItem]:
        threshold = config.model.threshold
        for spec in config.golden:
            for metric, gate in config.gates.quality.items():
                def judge(spec=spec, metric=metric, gate=gate) -> GateResult:
                    y_true, scores = state.scores(spec.name)
                    return quality.check_metric(metric, gate, y_true, scores, threshold,
                                                spec.name)

                yield self._item("quality", spec.name, metric,
                                 lambda spec=spec: state.scores(spec.name), judge)


class GateItem(pytest.Item):
    """One gate criterion. Loading data or the model happens in setup, so a crash there
    is reported as an error; a criterion that is not met is a failure."""

    def __init__(self, *, prepare: Callable[[], Any], judge: Callable[[], GateResult],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._prepare = prepare
        self._judge = judge

    def setup(self) -> None:
        self._prepare()

    def runtest(self) -> None:
        result = self._judge()
        self.user_properties.extend(result.properties.items())
        if result.skipped:
            pytest.skip(result.message)
        if not result.passed:
            raise GateFailure(result.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style=None) -> str:
        if isinstance(excinfo.value, (GateFailure, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, self.name
