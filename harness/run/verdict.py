"""Read JUnit reports back, decide the verdict of a run, and summarise it for people."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped
from junitparser.junitparser import JUnitXmlError

from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties

STATUSES = tuple(Outcome)


@dataclass(frozen=True)
class CaseOutcome:
    """One testcase as Jenkins will show it."""

    classname: str
    name: str
    status: Outcome
    message: str = ""
    properties: GateProperties = field(default_factory=GateProperties)

    @property
    def dataset(self) -> str:
        """What the criterion was measured on. A report by an older harness did not write
        it: then the classname after the suite (``<suite>.<dataset>[.<segment>]``), and the
        dataset property, if any, says where the segment begins."""
        if self.properties.dataset is not None:
            return self.properties.dataset
        return self._scope

    @property
    def segment(self) -> str:
        """The slice of the dataset, ``overall`` for all of it (derived as ``dataset``)."""
        if self.properties.segment is not None:
            return self.properties.segment
        dataset = self.dataset
        scope = self._scope
        return scope[len(dataset) + 1:] if scope.startswith(dataset + ".") else "overall"

    @property
    def _scope(self) -> str:
        return self.classname.split(".", 1)[1] if "." in self.classname else self.classname

    @property
    def suite(self) -> str:
        """The suite a case belongs to: ``schema.credit`` is in ``schema``,
        ``suites.unit.test_api`` in ``unit``."""
        parts = self.classname.split(".")
        if parts[0] == "suites" and len(parts) > 1:
            return parts[1]
        return parts[0] or "(none)"

    @property
    def title(self) -> str:
        return f"{self.classname}.{self.name}" if self.classname else self.name


@dataclass(frozen=True)
class Verdict:
    """Passed only when at least one case ran and none failed or errored."""

    cases: list[CaseOutcome]
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.cases) and not self.problems and not self.failures

    @property
    def failures(self) -> list[CaseOutcome]:
        return [c for c in self.cases if c.status.counts_against]

    def counts(self) -> dict[str, Counter[str]]:
        by_suite: dict[str, Counter[str]] = {}
        for case in self.cases:
            by_suite.setdefault(case.suite, Counter())[case.status] += 1
        return by_suite


def _status(case) -> tuple[Outcome, str]:
    for result in case.result:
        if isinstance(result, Error):
            return Outcome.ERROR, result.message or result.text or ""
        if isinstance(result, Failure):
            return Outcome.FAILED, result.message or result.text or ""
        if isinstance(result, Skipped):
            return Outcome.SKIPPED, result.message or ""
    return Outcome.PASSED, ""


def read_junit(paths: list[Path]) -> tuple[list[CaseOutcome], list[str]]:
    """Every testcase in the given JUnit files, and problems reading them."""
    cases: list[CaseOutcome] = []
    problems: list[str] = []
    for path in paths:
        try:
            xml = JUnitXml.fromfile(str(path))
        except (OSError, JUnitXmlError, SyntaxError) as exc:
            problems.append(f"cannot read JUnit report {path}: {exc}")
            continue
        suites = [xml] if xml._tag == "testsuite" else list(xml)
        for suite in suites:
            for case in suite:
                status, message = _status(case)
                props = case.child(Properties)
                properties = GateProperties.from_pairs(
                    (p.name, p.value) for p in props.iterchildren(Property)) if props else \
                    GateProperties()
                cases.append(
                    CaseOutcome(case.classname or "", case.name or "", status, message, properties)
                )
    return cases, problems


def decide(paths: list[Path], problems: list[str] | None = None) -> Verdict:
    cases, read_problems = read_junit(paths)
    problems = [*(problems or []), *read_problems]
    if not cases and not problems:
        problems.append("no testcase ran: the profile selects nothing, or collection failed")
    return Verdict(cases, problems)


def key_figures(verdict: Verdict) -> str:
    """The overall quality figures with their intervals, e.g. ``roc_auc 0.8336 [0.81, 0.86]``."""
    parts = []
    for case in verdict.cases:
        props = case.properties
        if (case.suite == "quality" and "." not in case.name and props.value is not None
                and case.segment == "overall"):
            interval = (f" [{float(props.ci_low):.3f}, {float(props.ci_high or 'nan'):.3f}]"
                        if props.ci_low is not None else "")
            parts.append(f"{case.dataset} {case.name} {float(props.value):.4f}{interval}")
    return "\n               ".join(parts)


def summarize(verdict: Verdict, title: str, max_failures: int = 20) -> str:
    """A short plain-text summary: per-suite counts, then each failure and why."""
    lines = [f"{title}: {'PASSED' if verdict.passed else 'FAILED'}"]
    for suite, counts in sorted(verdict.counts().items()):
        figures = ", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s])
        lines.append(f"  {suite:<12} {figures}")
    figures = key_figures(verdict)
    if figures:
        lines.append(f"  figures      {figures}")
    for problem in verdict.problems:
        lines.append(f"  PROBLEM {problem}")
    failures = verdict.failures
    for case in failures[:max_failures]:
        message = case.message.strip().splitlines()[0] if case.message.strip() else "(no message)"
        lines.append(f"  {case.status.upper():<6} {case.title}: {message}")
    if len(failures) > max_failures:
        lines.append(f"  ... and {len(failures) - max_failures} more (see the JUnit reports)")
    return "\n".join(lines)
