"""What a run's report says, gathered from its JUnit files, the config's gates, the
passports and the history store: typed rows the page, the plots and the summary share."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.candidate.lineage import Lineage
from harness.candidate.lineage import read as read_lineage
from harness.clock import utc_now
from harness.config import HarnessConfig
from harness.data import passport
from harness.errors import HarnessError
from harness.gates.properties import number
from harness.history import HistoryStore, RunMetric, StoredRun
from harness.run.verdict import STATUSES, CaseOutcome, Verdict, decide

HISTORY_RUNS = 30
LOAD_LATENCIES = ("p50_ms", "p95_ms", "p99_ms")
LOAD_THROUGHPUT = ("rps",)




# How bad an outcome is, for a row that several testcases judge. An outcome this report
# does not know (another harness's, a newer one's) ranks between a skip and a failure: never
# shown as passed.
_RANK = {"passed": 0, "skipped": 1, "failed": 3, "error": 4}
_UNKNOWN_RANK = 2


def worst(statuses: list[str]) -> str:
    """The worst of several testcases' outcomes: what a row that shows them all says."""
    return max(statuses, key=lambda s: _RANK.get(str(s), _UNKNOWN_RANK)) if statuses else ""


@dataclass(frozen=True)
class Comparison:
    """A metric's non-inferiority gate against the profile's baseline (``vs_passport`` or
    ``vs_production``): the baseline's figure, the paired difference and its interval."""

    criterion: str  # vs_passport, vs_production
    baseline: str  # as the gate names it: "passport #1", "production"
    status: str
    baseline_value: float | None
    difference: float | None
    low: float | None
    high: float | None
    max_drop: float | None
    message: str = ""


@dataclass(frozen=True)
class MetricRow:
    """A quality metric on a golden dataset (overall or one slice) in this run, with every
    gate on it: the floor, the comparison with the baseline, a slice's gap. ``status`` is
    the worst of their outcomes, so the row never says passed while one of them failed."""

    dataset: str
    segment: str
    metric: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    status: str
    rows: str = ""
    floor: str = ""
    floor_status: str = ""
    comparison: Comparison | None = None
    gap_status: str = ""
    passport: float | None = None
    passport_low: float | None = None
    passport_high: float | None = None
    message: str = ""


@dataclass(frozen=True)
class SuiteCounts:
    suite: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class DeepchecksGroup:
    """One deepchecks suite on one dataset: its checks' outcomes and deepchecks' own page."""

    suite: str
    dataset: str
    cases: list[CaseOutcome]
    html: str | None  # relative to the report page

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(c.status for c in self.cases)
        return {s: counted[s] for s in STATUSES}


@dataclass(frozen=True)
class DriftRow:
    """One schema column of a golden set against one reference (the training data, the
    previous golden version): its PSI and its second test (KS or chi-square), each with
    its outcome; ``status`` is the worse of the two."""

    dataset: str
    comparison: str  # training, previous
    reference: str
    column: str
    psi: float | None
    psi_status: str
    test: str  # ks, chi2
    statistic: float | None
    p_value: float | None
    test_status: str
    status: str
    rows: str = ""
    reference_rows: str = ""


def drift_rows(cases: list[CaseOutcome]) -> list[DriftRow]:
    """The feature_drift testcases per (dataset, comparison, column), worst PSI first
    (rows without a PSI, skipped ones, last)."""
    grouped: dict[tuple[str, str, str], dict[str, CaseOutcome]] = {}
    for case in cases:
        column, test = case.properties.column, case.properties.metric
        if case.suite == "feature_drift" and column is not None and test is not None:
            grouped.setdefault((case.dataset, case.segment, column), {})[test] = case
    rows = []
    for (dataset, comparison, column), tests in grouped.items():
        psi = tests.get("psi")
        name, other = next(((k, v) for k, v in tests.items() if k != "psi"), ("", None))
        first = psi or other
        assert first is not None
        props = first.properties
        rows.append(DriftRow(
            dataset=dataset, comparison=comparison, reference=props.reference or "",
            column=column, psi=number(psi.properties.value) if psi else None,
            psi_status=psi.status if psi else "", test=name,
            statistic=number(other.properties.value) if other else None,
            p_value=number(other.properties.p_value) if other else None,
            test_status=other.status if other else "",
            status=worst([c.status for c in tests.values()]),
            rows=str(props.rows) if props.rows is not None else "",
            reference_rows=str(props.reference_rows) if props.reference_rows is not None else "",
        ))
    return sorted(rows, key=lambda r: (r.psi is None, -(r.psi or 0.0)))


@dataclass(frozen=True)
class ReportContent:
    project: str
    profile: str
    generated_at: str
    verdict: Verdict
    run: StoredRun | None
    suites: list[SuiteCounts]
    metrics: list[MetricRow]
    slices: list[MetricRow]
    deepchecks: list[DeepchecksGroup]
    load: list[CaseOutcome]
    baseline: str = "passport"  # the profile's: passport, production or none
    command: str = ""  # what made the run, for the title; default `harness check --profile P`
    positive_label: str = ""  # what a binary model's positive class is called
    lineage: Lineage | None = None  # what made the artifact under test, when recorded
    quality_history: list[RunMetric] = field(default_factory=list)
    load_history: list[RunMetric] = field(default_factory=list)
    gates: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    drift: list[DriftRow] = field(default_factory=list)
    psi_max: float | None = None  # the feature_drift gate's PSI threshold

    @property
    def quality_runs(self) -> int:
        return len({r.run_id for r in self.quality_history})

    @property
    def load_runs(self) -> int:
        return len({r.run_id for r in self.load_history})

    @staticmethod
    def trend_note(runs: int) -> str:
        """What the page says where a trend would be drawn with fewer than two runs."""
        recorded = "no run" if runs == 0 else "one run"
        return (f"A trend needs two runs of this profile; {recorded} is recorded so far. "
                "This run's figures are in the table above.")

    @property
    def title(self) -> str:
        return f"{self.project}: {self.command or f'harness check --profile {self.profile}'}"

    @property
    def verdict_word(self) -> str:
        return "PASSED" if self.verdict.passed else "FAILED"

    @property
    def reasons(self) -> list[str]:
        """Why the verdict is what it is, in a sentence or a few."""
        if self.verdict.passed:
            return [f"all {len(self.verdict.cases)} testcases passed or were skipped"]
        reasons = list(self.verdict.problems)
        by_suite = Counter(c.suite for c in self.verdict.failures)
        reasons += [f"{n} {suite} testcase(s) failed or errored"
                    for suite, n in sorted(by_suite.items())]
        return reasons


def _passports(config: HarnessConfig) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    figures = {}
    for spec in config.golden:
        try:
            current = passport.current(config, spec)
        except HarnessError:
            current = None  # the quality gates report a broken passport or golden set
        if current is not None:
            figures[spec.name] = current.metrics
    return figures


def _comparison(case: CaseOutcome, criterion: str) -> Comparison:
    props = case.properties
    return Comparison(
        criterion=criterion, baseline=props.baseline or criterion.removeprefix("vs_"),
        status=case.status, baseline_value=number(props.baseline_value),
        difference=number(props.difference), low=number(props.difference_ci_low),
        high=number(props.difference_ci_high), max_drop=number(props.max_drop),
        message=case.message)


def _metric_row(cases: dict[str, CaseOutcome], metric: str,
                passports: dict[str, Any]) -> MetricRow:
    """One row from its testcases, keyed by criterion: "" (the floor), ``vs_<baseline>``,
    ``gap``."""
    floor = cases.get("")
    versus = next((k for k in cases if k.startswith("vs_")), None)
    first = floor or (cases[versus] if versus else next(iter(cases.values())))
    props = first.properties
    dataset, segment = first.dataset, first.segment
    bounds = [f"≥ {props.min}" if props.min is not None else "",
              f"≤ {props.max}" if props.max is not None else ""]
    blessed = passports.get(dataset, {}).get(segment, {}).get(metric, {})
    gap = cases.get("gap")
    return MetricRow(
        dataset=dataset, segment=segment, metric=metric, value=number(props.value),
        ci_low=number(props.ci_low), ci_high=number(props.ci_high),
        status=worst([c.status for c in cases.values()]),
        rows=str(props.rows) if props.rows is not None else "",
        floor=" ".join(b for b in bounds if b) if floor else "",
        floor_status=floor.status if floor else "",
        comparison=_comparison(cases[versus], versus) if versus else None,
        gap_status=gap.status if gap else "",
        passport=blessed.get("value"), passport_low=blessed.get("low"),
        passport_high=blessed.get("high"), message=first.message,
    )


def _metric_rows(cases: list[CaseOutcome],
                 passports: dict[str, Any]) -> tuple[list[MetricRow], list[MetricRow]]:
    """Quality testcases grouped per (dataset, segment, metric): overall rows, slice rows."""
    grouped: dict[tuple[str, str, str], dict[str, CaseOutcome]] = {}
    for case in cases:
        metric = case.properties.metric
        if case.suite != "quality" or metric is None:
            continue
        if case.name != metric and not case.name.startswith(metric + "."):
            continue  # a team's own quality test that happens to name a metric
        criterion = case.name[len(metric) + 1:]
        grouped.setdefault((case.dataset, case.segment, metric), {})[criterion] = case
    metrics, slices = [], []
    for (_, segment, metric), members in grouped.items():
        (metrics if segment == "overall" else slices).append(
            _metric_row(members, metric, passports))
    return metrics, slices


def _deepchecks_groups(cases: list[CaseOutcome], reports_dir: Path) -> list[DeepchecksGroup]:
    groups: dict[tuple[str, str], list[CaseOutcome]] = {}
    for case in cases:
        if case.suite == "deepchecks":
            props = case.properties
            key = (props.deepchecks_suite or case.classname, props.dataset or "")
            groups.setdefault(key, []).append(case)
    result = []
    for (suite, dataset), members in groups.items():
        html = next((c.properties.html for c in members if c.properties.html is not None), None)
        link = f"../{html}" if html and (reports_dir / html).is_file() else None
        result.append(DeepchecksGroup(suite, dataset, members, link))
    return result


def _lineage(config: HarnessConfig, run: StoredRun | None) -> Lineage | None:
    if run is None or config.model.artifact is None:
        return None
    return read_lineage(config.resolve(config.model.artifact), run.model_sha256)


def _baseline(config: HarnessConfig, profile: str) -> str:
    spec = config.profiles.get(profile)
    return spec.baseline if spec is not None else "passport"


def gather(config: HarnessConfig, profile: str, reports_dir: Path,
           history: HistoryStore | None, command: str = "") -> ReportContent:
    """Everything the report shows, read from a finished run's report folder and history."""
    verdict = decide(sorted((reports_dir / "junit").glob("*.xml")))
    passports = _passports(config)
    metrics, slices = _metric_rows(verdict.cases, passports)
    run = quality_history = load_history = None
    if history is not None:
        runs = history.runs(profile=profile, limit=1)
        run = runs[0] if runs else None
        quality_history = [r for r in history.metric_rows(profile, HISTORY_RUNS, "quality.")
                           if r.segment == "overall"]
        load_history = history.metric_rows(profile, HISTORY_RUNS, "load.")
    return ReportContent(
        project=config.project, profile=profile, command=command,
        generated_at=utc_now(),
        verdict=verdict, run=run, baseline=_baseline(config, profile),
        positive_label=str(config.model.positive_label or ""),
        lineage=_lineage(config, run),
        suites=[SuiteCounts(suite, {s: counts[s] for s in STATUSES})
                for suite, counts in sorted(verdict.counts().items())],
        metrics=metrics, slices=slices,
        deepchecks=_deepchecks_groups(verdict.cases, reports_dir),
        load=[c for c in verdict.cases if c.suite == "load"],
        quality_history=quality_history or [], load_history=load_history or [],
        gates={m: (g.min, g.max) for m, g in config.gates.quality.items()},
        drift=drift_rows(verdict.cases), psi_max=config.gates.feature_drift.psi_max,
    )
