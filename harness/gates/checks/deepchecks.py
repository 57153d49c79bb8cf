"""deepchecks suites as gate criteria: each deepchecks check is its own testcase.

deepchecks runs in a virtualenv of its own, in its own process (``harness.gates.deepchecks_env``;
its pins conflict with the harness's numpy and pandas), so this module never imports it.
At collection the suites' checks are read from the list kept beside that environment. In
the first deepchecks item's setup the model scores the training and golden data here, in
the harness's environment; the frames, labels, predictions and class probabilities go to
files in a temporary folder (``harness/gates/deepchecks_assets/exchange.py``), and one run of
``runner.py`` in deepchecks' environment runs every configured suite on every golden
dataset, saves deepchecks' own HTML beside the reports and writes each check's outcome.

deepchecks' own JUnit serializer writes a check whose condition failed as a passing
testcase, so the verdict of each check is read from that outcome here: a failed condition
fails the testcase with the condition's message; a check that could not run (such as a
leakage check on data without a datetime column, or one that needs the model object
itself) is skipped with deepchecks' reason, because it says the check does not apply, not
that the model or data is bad; Jenkins still shows it, with the reason.

Standard library at module level: the pytest plugin imports this in every session.
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.config import HarnessConfig
from harness.errors import ConfigError, DatasetError, DeepchecksRunError, HarnessError
from harness.gates import deepchecks_env
from harness.gates.context import RunContext
from harness.gates.deepchecks_env import CheckInfo, DeepchecksEnv
from harness.gates.inputs import Problem
from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties
from harness.gates.result import GateResult, GateSpec

if TYPE_CHECKING:
    from harness.gates.state import GateState

SUITES = ("data_integrity", "train_test_validation", "model_evaluation")
HTML_FOLDER = "deepchecks"


READS_DATA = True
CALLS_MODEL = True


def problems(context: RunContext) -> list[Problem]:
    """Nothing of its own: the datasets and the model are checked for every check that reads them."""
    return []


def check_key(name: str) -> str:
    """A deepchecks check's name as a testcase name: ``Mixed Nulls`` -> ``mixed_nulls``."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass(frozen=True)
class CheckSlot:
    """One check of a suite: its testcase name, its index in the suite and its name."""

    key: str
    index: int
    name: str


def suite_slots(checks: list[CheckInfo], exclude: list[str]) -> list[CheckSlot]:
    """A suite's checks as testcases, without the excluded ones (a name used twice gets
    its index)."""
    slots: list[CheckSlot] = []
    for info in checks:
        key = check_key(info.name)
        if key in exclude:
            continue
        if any(s.key == key for s in slots):
            key = f"{key}_{info.index}"
        slots.append(CheckSlot(key, info.index, info.name))
    return slots


@dataclass(frozen=True)
class Condition:
    name: str
    category: str  # deepchecks' ConditionCategory: PASS, WARN, FAIL or ERROR
    details: str


@dataclass(frozen=True)
class CheckOutcome:
    """What deepchecks said of one check: its conditions, or why it could not run."""

    index: int
    name: str
    conditions: list[Condition]
    exception: str | None = None


@dataclass(frozen=True)
class SuiteOutcome:
    """One suite on one golden dataset, as deepchecks' side reported it."""

    checks: dict[int, CheckOutcome]
    seconds: float


@dataclass(frozen=True)
class _Plan:
    suite: str
    golden: str
    keep: list[int]
    html: Path | None


def _announce(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


class DeepchecksRun:
    """Every planned suite on its golden dataset, in one run of deepchecks' side on first
    use; an input a suite needs that cannot be had (no training data, a model that does
    not load) fails that suite's items alone, each with the same error."""

    def __init__(self, state: GateState, env: DeepchecksEnv) -> None:
        self._state = state
        self._env = env
        self._plans: list[_Plan] = []
        self._outcomes: dict[tuple[str, str], SuiteOutcome | HarnessError] | None = None

    def plan(self, suite: str, golden: str, keep: list[int]) -> Path | None:
        """Add a suite on a golden dataset; returns where its HTML will be."""
        reports = self._state.reports_dir
        html = reports / HTML_FOLDER / f"{suite}.{golden}.html" if reports else None
        self._plans.append(_Plan(suite, golden, keep, html))
        return html

    def outcome(self, suite: str, golden: str) -> SuiteOutcome:
        if self._outcomes is None:
            self._outcomes = self._run()
        found = self._outcomes[(suite, golden)]
        if isinstance(found, HarnessError):
            raise found.with_traceback(None)
        return found

    def _run(self) -> dict[tuple[str, str], SuiteOutcome | HarnessError]:
        outcomes: dict[tuple[str, str], SuiteOutcome | HarnessError] = {}
        with tempfile.TemporaryDirectory(prefix="harness-deepchecks-") as tmp:
            folder = Path(tmp)
            writer = _Inputs(self._state, folder)
            runs = []
            for plan in self._plans:
                try:
                    runs.append(writer.run_request(plan))
                except HarnessError as exc:
                    outcomes[(plan.suite, plan.golden)] = exc
            if runs:
                outcomes.update(self._call(folder, writer.datasets, runs))
        return outcomes

    def _call(self, folder: Path, datasets: dict[str, Any], runs: list[dict[str, Any]]
              ) -> dict[tuple[str, str], SuiteOutcome | HarnessError]:
        from harness.gates.deepchecks_assets import exchange

        exchange.write_json(folder / "request.json",
                            {"format": exchange.FORMAT, "datasets": datasets, "runs": runs})
        deepchecks_env.run_runner(
            self._env, ["run", str(folder / "request.json"), str(folder / "result.json")],
            self._state.config.deepchecks.timeout_s, "running its suites",
            log=folder / "runner.log")
        try:
            result = exchange.read_json(folder / "result.json")
        except (OSError, ValueError) as exc:
            raise DeepchecksRunError(
                f"deepchecks' side wrote no readable result ({exc})") from None
        outcomes: dict[tuple[str, str], SuiteOutcome | HarnessError] = {}
        by_id = {run["id"]: run for run in result["runs"]}
        for sent in runs:
            key = (sent["suite"], sent["golden"])
            run = by_id.get(sent["id"])
            if run is None:
                outcomes[key] = DeepchecksRunError(
                    f"deepchecks' side returned nothing for suite '{key[0]}' on '{key[1]}'")
            elif run["error"] is not None:
                outcomes[key] = DeepchecksRunError(
                    f"deepchecks could not run suite '{key[0]}' on '{key[1]}': {run['error']}")
            else:
                outcomes[key] = SuiteOutcome(
                    {c["index"]: _check_outcome(c) for c in run["checks"] if c["found"]},
                    run["seconds"])
        return outcomes


def _check_outcome(entry: dict[str, Any]) -> CheckOutcome:
    exception = entry["exception"]
    reason = None
    if exception is not None:
        text = exception["message"].strip()
        reason = text.splitlines()[0] if text else exception["type"]
    return CheckOutcome(entry["index"], entry["name"],
                        [Condition(c["name"], c["category"], c["details"])
                         for c in entry["conditions"]], reason)


class _Inputs:
    """Writes what deepchecks' side reads for each run: a dataset's frame once, and the
    model's predictions on the training and golden data for model evaluation."""

    def __init__(self, state: GateState, folder: Path) -> None:
        self._state = state
        self._folder = folder
        self.datasets: dict[str, Any] = {}
        self._scores: dict[str, Any] = {}

    def _dataset(self, name: str) -> str:
        from harness.gates.deepchecks_assets import exchange

        if name not in self.datasets:
            config = self._state.config
            frame = self._state.dataset(name).frame
            label = config.model.label_column
            folder = f"data-{len(self.datasets)}"
            exchange.write_frame(self._folder / folder, frame)
            self.datasets[name] = {
                "folder": folder, "label": label,
                "label_type": config.model.model_kind.deepchecks_task,
                # The schema's text and boolean columns, so deepchecks does not guess them.
                "cat_features": [c for c, rule in config.data_schema.columns.items()
                                 if rule.dtype in ("string", "boolean") and c != label],
            }
        return name

    def run_request(self, plan: _Plan) -> dict[str, Any]:
        config = self._state.config
        request: dict[str, Any] = {"id": f"{plan.suite}.{plan.golden}", "suite": plan.suite,
                                   "golden": plan.golden, "keep": plan.keep,
                                   "predictions": None, "model_classes": None,
                                   "html": str(plan.html) if plan.html else None}
        if plan.suite == "data_integrity":
            request |= {"train": self._dataset(plan.golden), "test": None}
        else:
            if config.training is None:
                raise ConfigError(
                    f"deepchecks suite '{plan.suite}' compares golden data with training "
                    "data; set 'training' in the config or leave the suite out of "
                    "deepchecks.suites"
                )
            request |= {"train": self._dataset(config.training.name),
                        "test": self._dataset(plan.golden)}
        if plan.suite == "model_evaluation":
            request |= self._predictions(plan)
        if plan.html is not None:
            plan.html.parent.mkdir(parents=True, exist_ok=True)
        return request

    def _predictions(self, plan: _Plan) -> dict[str, Any]:
        from harness.gates.deepchecks_assets import exchange

        config = self._state.config
        assert config.training is not None  # checked by run_request
        golden = self._state.dataset(plan.golden).frame
        fitted = list(getattr(self._state.model(), "classes", []) or [])
        classes = model_classes(golden, config, fitted)
        folders = {}
        for role, name in (("train", config.training.name), ("test", plan.golden)):
            labels, proba = predictions(self._score(name), config, classes, fitted)
            folders[role] = f"predictions-{plan.golden}-{role}"
            exchange.write_predictions(self._folder / folders[role], labels, proba)
        return {"predictions": folders, "model_classes": classes}

    def _score(self, name: str) -> Any:
        """The model's scores on a dataset: golden ones as the quality gates scored them."""
        if name not in self._scores:
            if any(spec.name == name for spec in self._state.config.golden):
                self._scores[name] = self._state.evaluation(name).candidate
            else:
                from harness.model.adapters import features

                frame = self._state.dataset(name).frame
                self._scores[name] = self._state.model().score(
                    features(frame, self._state.config.model))
        return self._scores[name]


def model_classes(golden: Any, config: HarnessConfig, fitted: list[Any]) -> list[Any] | None:
    """The classes deepchecks evaluates, sorted as it requires: a binary model's positive
    label and the golden label's one other value; a multiclass model's own; none for a
    regression."""
    from harness.kinds.labels import sorted_classes

    kind = config.model.model_kind
    if not kind.is_classifier:
        return None
    if kind.has_classes:
        return sorted_classes(fitted)
    positive = config.model.positive_label
    others = [v for v in golden[config.model.label_column].dropna().unique() if v != positive]
    if len(others) != 1:
        raise DatasetError(
            f"deepchecks model evaluation needs a binary label '{config.model.label_column}' "
            f"with '{positive}' and one other value; found {sorted(map(str, others))}"
        )
    return sorted_classes([positive, others[0]])


def predictions(scores: Any, config: HarnessConfig, classes: list[Any] | None,
                fitted: list[Any] | None = None) -> tuple[list[Any], Any | None]:
    """The model's scores (``Model.score``'s shape for its kind) as deepchecks takes them:
    a predicted label per row, and class probabilities in ``classes`` order."""
    import numpy as np

    if classes is None:  # regression: the prediction is the score
        return list(np.asarray(scores, dtype=float)), None
    if config.model.model_kind.has_classes:  # the model's columns, in sorted class order
        order = [list(fitted or classes).index(c) for c in classes]
        proba = np.asarray(scores, dtype=float)[:, order]
        return [classes[i] for i in proba.argmax(axis=1)], proba
    positive_label = config.model.positive_label
    negative_label = next(c for c in classes if c != positive_label)
    positive = np.asarray(scores, dtype=float)
    proba = np.column_stack([positive if c == positive_label else 1 - positive
                             for c in classes])
    above = positive >= config.model.threshold
    return [positive_label if hit else negative_label for hit in above], proba


def judge_check(outcome: SuiteOutcome, slot: CheckSlot, suite_name: str, dataset: str,
                html: str | None = None) -> GateResult:
    """One check's testcase outcome, read from the suite's outcome."""
    props = GateProperties(deepchecks_suite=suite_name, check=slot.name, dataset=dataset,
                           html=html or None)
    check = outcome.checks.get(slot.index)
    title = f"{slot.name} on '{dataset}'"
    if check is None:
        return GateResult(Outcome.FAILED, f"{title}: deepchecks returned no result for it", props)
    if check.exception is not None:
        return GateResult(Outcome.SKIPPED, f"{title} could not run: {check.exception}",
                          replace(props, status="could_not_run"))
    conditions = check.conditions
    failing = [c for c in conditions if c.category in ("FAIL", "ERROR")]
    warned = [c for c in conditions if c.category == "WARN"]
    props = replace(props, conditions=len(conditions), conditions_failed=len(failing),
                    conditions_warned=len(warned))
    if failing:
        details = "; ".join(f"{c.name}: {_one_line(c.details)}" for c in failing)
        return GateResult(Outcome.FAILED, f"{title}: {details}", props)
    if not conditions:
        return GateResult(Outcome.PASSED,
                          f"{title}: ran; it has no condition to judge (see its HTML)", props)
    shown = [*warned, *(c for c in conditions if c not in warned)][:2]  # warnings first
    notes = "; ".join(f"{c.name}: {_one_line(c.details)}" for c in shown)
    return GateResult(Outcome.PASSED, f"{title}: {len(conditions)} condition(s) hold ({notes})",
                      props)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def gates(state: GateState) -> Iterator[GateSpec]:
    """Per configured suite and golden dataset, one criterion per deepchecks check."""
    spec = state.config.deepchecks
    env = deepchecks_env.ensure(announce=_announce)
    listing = env.checks()
    known = {slot.key for name in spec.suites for slot in suite_slots(listing[name], [])}
    unknown = sorted(set(spec.exclude) - known)
    if unknown:
        raise ConfigError(
            f"{state.config.source}: key 'deepchecks.exclude' names checks the selected suites "
            f"do not have: {', '.join(unknown)} (known: {', '.join(sorted(known))})",
            key="deepchecks.exclude", path=state.config.source
        )
    run = DeepchecksRun(state, env)
    specs: list[GateSpec] = []  # every suite planned before any item can run them
    for suite_name in spec.suites:
        slots = suite_slots(listing[suite_name], spec.exclude)
        for golden in state.config.golden:
            path = run.plan(suite_name, golden.name, [s.index for s in slots])
            html = f"{HTML_FOLDER}/{path.name}" if path else None

            def prepare(suite: str = suite_name, name: str = golden.name) -> SuiteOutcome:
                return run.outcome(suite, name)

            for slot in slots:
                def judge(slot: CheckSlot = slot, suite: str = suite_name,
                          name: str = golden.name, html: str | None = html) -> GateResult:
                    return judge_check(run.outcome(suite, name), slot, suite, name, html)

                # classname deepchecks.<suite>.<dataset>: the suite is a level of the tree.
                specs.append(GateSpec(f"deepchecks.{suite_name}", golden.name, slot.key,
                                      prepare, judge))
    yield from specs
