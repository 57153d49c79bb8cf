"""deepchecks suites as gate criteria: each deepchecks check is its own testcase.

The only module that imports deepchecks, lazily: deepchecks 0.19.1 imports only with
numpy < 2, pandas < 3 and setuptools < 81 (the ``harness[deepchecks]`` extra pins them),
and the rest of the harness must not depend on those pins.

The suites are built at collection to list their checks, and each suite runs once per
golden dataset in the first of its items' setup. deepchecks' own JUnit serializer writes
a check whose condition failed as a passing testcase, so the verdict of each check is
read from the suite result here: a failed condition fails the testcase with the
condition's message; a check that could not run (deepchecks' ``CheckFailure``, such as a
leakage check on data without a datetime column) is skipped with deepchecks' reason,
because it says the check does not apply to this data, not that the model or data is bad;
Jenkins still shows it, with the reason. deepchecks' own HTML is saved beside the reports.
"""

from __future__ import annotations

import importlib
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from harness.checks.result import GateResult, GateSpec
from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.models import Model

if TYPE_CHECKING:
    from harness.gate_state import GateState

SUITES = ("data_integrity", "train_test_validation", "model_evaluation")
HTML_FOLDER = "deepchecks"


class DeepchecksMissing(HarnessError):
    """deepchecks is not installed in the harness's environment."""


def _deepchecks() -> Any:
    """Import deepchecks' tabular API, with its network calls switched off first."""
    # deepchecks asks api.deepchecks.com for the latest version on import (and sends an
    # anonymous id with it) unless one of these is set; the harness runs offline.
    os.environ.setdefault("DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY", "True")
    os.environ.setdefault("DISABLE_LATEST_VERSION_CHECK", "True")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tabular = importlib.import_module("deepchecks.tabular")
            suites = importlib.import_module("deepchecks.tabular.suites")
    except ImportError as exc:
        raise DeepchecksMissing(
            f"the 'deepchecks' check needs deepchecks 0.19.1 and its pins ({exc}); "
            "install harness[deepchecks] (`make install` does)"
        ) from None
    return tabular, suites


def check_key(name: str) -> str:
    """A deepchecks check's name as a testcase name: ``Mixed Nulls`` -> ``mixed_nulls``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


class ModelAdapter:
    """The harness's model (P(positive) per row) as deepchecks wants a classifier:
    ``predict`` and ``predict_proba`` over both classes, in ``classes_`` order."""

    def __init__(self, model: Model, positive: Any, negative: Any, threshold: float) -> None:
        self._model = model
        self._positive, self._negative = positive, negative
        self._threshold = threshold
        self.classes_ = np.array(sorted([positive, negative], key=str))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        positive = self._model.predict_proba(frame)
        columns = {self._positive: positive, self._negative: 1 - positive}
        return np.column_stack([columns[c] for c in self.classes_])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        positive = self._model.predict_proba(frame) >= self._threshold
        return np.where(positive, self._positive, self._negative).astype(object)


@dataclass(frozen=True)
class CheckSlot:
    """One check of a built suite: its testcase name and deepchecks' check object."""

    key: str
    check: Any


def build_suite(name: str, exclude: list[str]) -> tuple[Any, list[CheckSlot]]:
    """deepchecks' default suite ``name`` (with its conditions), without the excluded checks."""
    _, suites = _deepchecks()
    suite = getattr(suites, name)()
    slots: list[CheckSlot] = []
    for index, check in list(suite.checks.items()):
        key = check_key(check.name())
        if key in exclude:
            suite.remove(index)
            continue
        if any(s.key == key for s in slots):
            key = f"{key}_{index}"
        slots.append(CheckSlot(key, check))
    return suite, slots


def _label_classes(frame: pd.DataFrame, config: HarnessConfig) -> tuple[Any, Any]:
    positive = config.model.positive_label
    others = [v for v in frame[config.model.label_column].dropna().unique() if v != positive]
    if len(others) != 1:
        raise HarnessError(
            f"deepchecks model evaluation needs a binary label '{config.model.label_column}' "
            f"with '{positive}' and one other value; found {sorted(map(str, others))}"
        )
    return positive, others[0]


def to_dataset(frame: pd.DataFrame, config: HarnessConfig) -> Any:
    """A deepchecks Dataset: the label from the config, categorical features from the
    schema's string columns (so deepchecks does not guess them)."""
    tabular, _ = _deepchecks()
    label = config.model.label_column
    categorical = [c for c, rule in config.data_schema.columns.items()
                   if rule.dtype in ("string", "boolean") and c != label and c in frame.columns]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return tabular.Dataset(frame, label=label if label in frame.columns else None,
                               cat_features=categorical)


class SuiteRun:
    """One deepchecks suite on one golden dataset, run once on first use."""

    def __init__(self, state: GateState, suite_name: str, dataset: str, suite: Any) -> None:
        self._state = state
        self.suite_name, self.dataset = suite_name, dataset
        self._suite = suite
        self._result: Any = None
        self._error: Exception | None = None

    @property
    def html_name(self) -> str:
        return f"{self.suite_name}.{self.dataset}.html"

    def result(self) -> Any:
        """The suite result; a suite that failed to run fails each of its checks' setup with
        the same error, without running again."""
        if self._error is not None:
            raise self._error.with_traceback(None)
        if self._result is None:
            try:
                self._result = self._run()
            except Exception as exc:
                self._error = exc
                raise
        return self._result

    def _run(self) -> Any:
        config = self._state.config
        golden = to_dataset(self._state.dataset(self.dataset).frame, config)
        kwargs: dict[str, Any] = {}
        if self.suite_name == "data_integrity":
            kwargs["train_dataset"] = golden
        else:
            if config.training is None:
                raise HarnessError(
                    f"deepchecks suite '{self.suite_name}' compares golden data with training "
                    "data; set 'training' in the config or leave the suite out of "
                    "deepchecks.suites"
                )
            kwargs["train_dataset"] = to_dataset(
                self._state.dataset(config.training.name).frame, config)
            kwargs["test_dataset"] = golden
        if self.suite_name == "model_evaluation":
            positive, negative = _label_classes(self._state.dataset(self.dataset).frame, config)
            kwargs["model"] = ModelAdapter(self._state.model(), positive, negative,
                                           config.model.threshold)
            kwargs["model_classes"] = list(kwargs["model"].classes_)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = self._suite.run(**kwargs)
        self._save_html(result)
        return result

    def _save_html(self, result: Any) -> None:
        reports = self._state.reports_dir
        if reports is None:
            return
        folder = reports / HTML_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        # connected=False puts deepchecks' scripts in the file: nothing loads from a CDN.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result.save_as_html(str(folder / self.html_name), as_widget=False,
                                connected=False)


def judge_check(result: Any, slot: CheckSlot, suite_name: str, dataset: str,
                html: str | None = None) -> GateResult:
    """One check's testcase outcome, read from the suite result."""
    props = {"deepchecks_suite": suite_name, "check": slot.check.name(), "dataset": dataset}
    if html:
        props["html"] = html
    outcome = next((r for r in result.results if r.check is slot.check), None)
    title = f"{slot.check.name()} on '{dataset}'"
    if outcome is None:
        return GateResult(False, f"{title}: deepchecks returned no result for it", props)
    exception = getattr(outcome, "exception", None)
    if exception is not None:
        props["status"] = "could_not_run"
        reason = str(exception).strip().splitlines()[0] if str(exception).strip() else type(
            exception).__name__
        return GateResult(True, f"{title} could not run: {reason}", props, skipped=True)
    conditions = list(outcome.conditions_results or [])
    failing = [c for c in conditions if c.category.name in ("FAIL", "ERROR")]
    warned = [c for c in conditions if c.category.name == "WARN"]
    props |= {"conditions": str(len(conditions)), "conditions_failed": str(len(failing)),
              "conditions_warned": str(len(warned))}
    if failing:
        details = "; ".join(f"{c.name}: {_one_line(c.details)}" for c in failing)
        return GateResult(False, f"{title}: {details}", props)
    if not conditions:
        return GateResult(True, f"{title}: ran; it has no condition to judge (see its HTML)",
                          props)
    notes = "; ".join(f"{c.name}: {_one_line(c.details)}" for c in [*warned, *conditions][:2])
    return GateResult(True, f"{title}: {len(conditions)} condition(s) hold ({notes})", props)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def gates(state: GateState) -> Iterator[GateSpec]:
    """Per configured suite and golden dataset, one criterion per deepchecks check."""
    spec = state.config.deepchecks
    known = {slot.key for name in spec.suites for slot in build_suite(name, [])[1]}
    unknown = sorted(set(spec.exclude) - known)
    if unknown:
        raise HarnessError(
            f"{state.config.source}: key 'deepchecks.exclude' names checks the selected suites "
            f"do not have: {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )
    for suite_name in spec.suites:
        for golden in state.config.golden:
            suite, slots = build_suite(suite_name, spec.exclude)
            run = SuiteRun(state, suite_name, golden.name, suite)
            html = f"{HTML_FOLDER}/{run.html_name}" if state.reports_dir else None
            for slot in slots:
                def judge(slot=slot, run=run, html=html) -> GateResult:
                    return judge_check(run.result(), slot, run.suite_name, run.dataset, html)

                yield GateSpec("deepchecks", f"{suite_name}.{golden.name}", slot.key,
                               run.result, judge)


def html_reports(reports_dir: Path) -> list[Path]:
    """deepchecks' own HTML files saved under a run's report folder."""
    return sorted((reports_dir / HTML_FOLDER).glob("*.html"))
