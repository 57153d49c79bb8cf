"""Write JUnit XML for outcomes the harness decides outside pytest (promotion, ...)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from junitparser import Failure, JUnitXml, Properties, Property, TestCase, TestSuite


@dataclass(frozen=True)
class Case:
    classname: str
    name: str
    passed: bool
    message: str
    properties: dict[str, str] = field(default_factory=dict)


def write_junit(path: Path, suite_name: str, cases: list[Case]) -> Path:
    """Write ``cases`` as one test suite, atomically."""
    suite = TestSuite(suite_name)
    for case in cases:
        testcase = TestCase(case.name, classname=case.classname)
        if not case.passed:
            testcase.result = [Failure(case.message)]
        else:
            testcase.system_out = case.message
        if case.properties:
            properties = Properties()
            for name, value in case.properties.items():
                properties.add_property(Property(name, str(value)))
            testcase.append(properties)
        suite.add_testcase(testcase)
    xml = JUnitXml()
    xml.add_testsuite(suite)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    xml.write(str(temporary))
    os.replace(temporary, path)
    return path
