"""Write JUnit XML for outcomes the harness decides outside pytest (promotion, ...)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped, TestCase, TestSuite

from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties
from harness.gates.result import GateResult
from harness.text import MESSAGE_LIMIT, clip


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    outcome: Outcome
    message: str
    properties: GateProperties = field(default_factory=GateProperties)

    @property
    def passed(self) -> bool:
        return self.outcome is Outcome.PASSED


def judged_case(classname: str, name: str, result: GateResult) -> Case:
    """A judged gate criterion as a testcase: how a check run outside pytest (the release
    checks after promotion) reports, the same outcome and properties the plugin writes."""
    return Case(classname, name, result.outcome, result.message, result.properties)


_RESULTS = {Outcome.FAILED: Failure, Outcome.ERROR: Error, Outcome.SKIPPED: Skipped}


def write_junit(path: Path, suite_name: str, cases: list[Case]) -> Path:
    """Write ``cases`` as one test suite, atomically."""
    suite = TestSuite(suite_name)
    for case in cases:
        testcase = TestCase(case.name, classname=case.classname)
        message = clip(case.message, MESSAGE_LIMIT)  # as the plugin bounds its testcases
        if case.outcome is Outcome.PASSED:
            testcase.system_out = message
        else:
            testcase.result = [_RESULTS[case.outcome](message)]
        pairs = case.properties.to_pairs()
        if pairs:
            properties = Properties()
            for name, value in pairs:
                properties.add_property(Property(name, value))
            testcase.append(properties)
        suite.add_testcase(testcase)
    xml = JUnitXml()
    xml.add_testsuite(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    xml.write(str(temporary))
    os.replace(temporary, path)
    return path
