"""What a pytest session's gate items share, each thing loaded once and on first use:
datasets (golden ones verified against their manifests), the model, scored golden
sets with their baseline, and the history store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.config import HarnessConfig, ModelAccess, ProfileSpec
from harness.data import golden, passport
from harness.data.datasets import Dataset, read_dataset
from harness.errors import BaselineError
from harness.gates.benchmark_suite import BenchmarkRun, run_benchmarks
from harness.gates.context import RunContext
from harness.gates.evaluation import Evaluation, evaluate
from harness.gates.recorded import passport_digests
from harness.history import HistoryStore
from harness.load.results import LoadResults
from harness.load.runner import run_load
from harness.model.adapters import Model, features, open_model


class _Memo:
    """Call a loader once; later calls return its value or raise its error again."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._load = load
        self._outcome: tuple[bool, Any, Any] | None = None

    def __call__(self) -> Any:
        if self._outcome is None:
            try:
                self._outcome = (True, self._load(), None)
            except Exception as exc:  # noqa: BLE001 - any failure is kept and raised again
                self._outcome = (False, exc, exc.__traceback__)
        ok, value, traceback = self._outcome
        if not ok:
            # Restore the original traceback so repeated raises do not pile up frames.
            raise value.with_traceback(traceback)
        return value


class GateState:
    """The pytest-side state of one run (its ``RunContext``), shared by its gate items."""

    def __init__(self, context: RunContext) -> None:
        self.context = context
        config, reports, target_url = context.config, context.reports, context.target_url
        tool_reports = reports or config.root / "reports" / "pytest"
        self._load = _Memo(lambda: run_load(config, tool_reports / "load", target_url))
        self._benchmarks = _Memo(lambda: run_benchmarks(config, tool_reports / "benchmark"))
        golden_names = {spec.name for spec in config.golden}
        self._datasets = {
            spec.name: _Memo(lambda spec=spec: self._read(spec.name, spec.path,
                                                          spec.name in golden_names))
            for spec in config.datasets()
        }
        self._model = _Memo(lambda: open_model(config, self._model_access()))
        self._evaluations = {
            spec.name: _Memo(lambda spec=spec: self._kept(evaluate(
                config, spec.name, self.dataset(spec.name).frame, self.model())))
            for spec in config.golden
        }
        self._compared = {
            spec.name: _Memo(lambda spec=spec: self._kept(self._with_baseline(spec.name)))
            for spec in config.golden
        }
        self._production = _Memo(lambda: open_model(config, config.production_access()))
        self._history = _Memo(lambda: HistoryStore(config.history_url()))

    @property
    def config(self) -> HarnessConfig:
        return self.context.config

    @property
    def profile(self) -> ProfileSpec:
        return self.context.profile

    @property
    def profile_name(self) -> str:
        return self.context.profile_name

    @property
    def reports_dir(self) -> Path | None:
        """Where checks keep their tools' own reports (Locust, pytest-benchmark, deepchecks);
        deepchecks saves its pages only when given, the others fall back to reports/pytest."""
        return self.context.reports

    @property
    def target_url(self) -> str | None:
        return self.context.target_url

    def _model_access(self) -> ModelAccess:
        """The model under test as this profile reaches it: in the profile's environment,
        over HTTP, when it names one; otherwise as ``model`` says."""
        spec = self.config.model
        if self.context.target_url is None or self.profile.environment is None:
            return spec
        return spec.over_http(self.context.target_url)

    def finished(self) -> None:
        """Every gate item has run (pytest tore their file down): the scores kept for the
        report are final, and the engine may draw from them while pytest goes on with the
        team's own tests."""
        if self.context.reports is not None:
            from harness.gates import scores

            scores.mark_complete(self.context.reports)

    def _kept(self, evaluation: Evaluation) -> Evaluation:
        """Keep the scores beside the reports for the report's pictures of the model."""
        if self.context.reports is not None:
            from harness.gates import scores

            positive = self.config.model.positive_label
            scores.save(evaluation, self.context.reports,
                        "" if positive is None else str(positive))
        return evaluation

    def _read(self, name: str, path: Any, is_golden: bool) -> Dataset:
        location = self.config.resolve(path)
        if is_golden:
            golden.verify(location.parent)
        return read_dataset(name, location)

    def dataset(self, name: str) -> Dataset:
        return self._datasets[name]()

    def model(self) -> Model:
        return self._model()

    def evaluation(self, name: str) -> Evaluation:
        """A golden dataset scored by the candidate."""
        return self._evaluations[name]()

    def compared(self, name: str) -> Evaluation:
        """A golden dataset scored by the candidate and by the profile's baseline."""
        return self._compared[name]()

    def history(self) -> HistoryStore:
        return self._history()

    def load(self) -> LoadResults:
        """The session's one load run (Locust in its own processes)."""
        return self._load()

    def benchmarks(self) -> BenchmarkRun:
        """The session's one run of the micro-benchmark suite."""
        return self._benchmarks()

    def _with_baseline(self, name: str) -> Evaluation:
        evaluation = self.evaluation(name)
        if self.profile.baseline == "passport":
            spec = next(s for s in self.config.golden if s.name == name)
            found = passport.baseline(self.config, spec, passport_digests(self.config))
            if found is None:
                raise BaselineError(
                    f"no passport for golden dataset '{name}' as it is now; record one with "
                    "`harness golden bless --by NAME --reason TEXT`"
                )
            current, scores = found
            label = current.label
            if evaluation.kind.has_classes and [str(c) for c in current.classes] != [
                    str(c) for c in evaluation.classes]:
                raise BaselineError(
                    f"{label} of '{name}' scored the classes {current.classes}, the candidate "
                    f"scores {evaluation.classes}; bless a new passport"
                )
        elif self.profile.baseline == "production":
            frame = self.dataset(name).frame
            production = self._production()
            scores = production.score(features(frame, self.config.model))
            label = "production"
            if evaluation.kind.has_classes and [str(c) for c in production.classes] != [
                    str(c) for c in evaluation.classes]:
                raise BaselineError(
                    f"production scores the classes {production.classes}, the candidate "
                    f"{evaluation.classes} on '{name}'; set model.classes to match them"
                )
        else:
            raise BaselineError(f"profile has no baseline to compare '{name}' with")
        if len(scores) != len(evaluation.y):
            raise BaselineError(
                f"baseline {label} has {len(scores)} scores for {len(evaluation.y)} golden rows "
                f"of '{name}'; bless a new passport"
            )
        evaluation.baseline, evaluation.baseline_name = scores, label
        return evaluation
