"""The pytest plugin, run for real with ``pytester``: real sessions, real JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pandas as pd
import pytest
import yaml

from harness.run.verdict import read_junit
from tests.support.plugin_sessions import _project, _run
from tests.support.project import EXAMPLE

pytest_plugins = ["pytester"]

CONSTANT_MODEL = """
import numpy as np

class Constant:
    def predict_proba(self, frame):
        return np.full(len(frame), 0.3)

def load():
    return Constant()
"""

BROKEN_MODEL = """
def load():
    raise RuntimeError("weights file is corrupt")
"""


def test_items_are_named_for_jenkins_with_properties(pytester, model_artifact):
    cases = _run(pytester, _project(pytester, model_artifact))
    assert {c.status for c in cases.values()} == {"passed", "skipped"}
    skipped = [k for k, c in cases.items() if c.status == "skipped"]
    assert all(k.startswith("quality.credit-v1.") for k in skipped), "only small slices skip"
    assert "schema.credit-v1::Age.range" in cases
    assert "schema.train::Income.nullable" not in cases, "a nullable column has no null check"
    assert "schema.train::Status.allowed" in cases
    auc = cases["quality.credit-v1::roc_auc"]
    assert auc.properties.metric == "roc_auc"
    assert float(auc.properties.value) >= float(auc.properties.min) == 0.8
    assert auc.properties.rows == 1114
    assert auc.properties.dataset == "credit-v1" and auc.properties.segment == "overall"
    assert float(auc.properties.ci_low) < float(auc.properties.value) < float(
        auc.properties.ci_high)
    overall = [k for k in cases if k.startswith("quality.credit-v1::") and "." not in k[19:]]
    assert len(overall) == 5
    versus = cases["quality.credit-v1::roc_auc.vs_passport"]
    assert versus.properties.baseline == "passport #1"
    gap = cases["quality.credit-v1.job=fixed::roc_auc.gap"]
    assert gap.status == "passed"
    assert (gap.properties.dataset, gap.properties.segment) == ("credit-v1", "job=fixed")
    small = cases["quality.credit-v1.home=ignore::roc_auc"]
    assert small.status == "skipped" and "fewer than 50: roc_auc = " in small.message


def test_the_interval_method_is_a_property_and_both_give_the_same_verdicts(pytester,
                                                                          model_artifact):
    config = _project(pytester, model_artifact)
    auto = _run(pytester, config)
    data = yaml.safe_load(config.read_text())
    data["gates"]["intervals"] = {"method": "analytic"}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    analytic = _run(pytester, config)
    # 1,114 golden rows are under the default analytic_min_rows: auto bootstraps them.
    assert auto["quality.credit-v1::roc_auc.vs_passport"].properties.ci_method == "bootstrap"
    assert analytic["quality.credit-v1::roc_auc.vs_passport"].properties.ci_method \
        == "analytic"
    floor = analytic["quality.credit-v1::roc_auc"].properties
    assert floor.ci_method == "analytic"
    assert float(floor.ci_low) < float(floor.value) < float(floor.ci_high)
    assert {k: c.status for k, c in auto.items()} == {k: c.status for k, c in analytic.items()}


def test_junit_names_have_no_pytest_parametrisation(pytester, model_artifact):
    config = _project(pytester, model_artifact)
    junit = pytester.path / "junit.xml"
    pytester.runpytest(str(config), f"--junitxml={junit}")
    for case in ET.parse(junit).iter("testcase"):
        assert "[" not in case.get("name") and "harness.yaml" not in case.get("classname")


def test_constant_model_fails_the_quality_gate_naming_the_metric(pytester, model_artifact):
    pytester.makepyfile(constant_model=CONSTANT_MODEL)
    pytester.syspathinsert()
    config = _project(pytester, model_artifact,
                      model={"entrypoint": "constant_model:load", "artifact": None})
    cases = _run(pytester, config)
    auc = cases["quality.credit-v1::roc_auc"]
    assert auc.status == "failed"
    assert auc.message.startswith("roc_auc = 0.5000 [0.5000, 0.5000] on 'credit-v1' (1114 rows), below its floor")
    assert cases["quality.credit-v1::recall"].status == "failed"
    assert all(c.status == "passed" for k, c in cases.items() if k.startswith("schema."))


def test_a_crashing_model_is_an_error_not_a_pass(pytester, model_artifact):
    pytester.makepyfile(broken_model=BROKEN_MODEL)
    pytester.syspathinsert()
    config = _project(pytester, model_artifact,
                      model={"entrypoint": "broken_model:load", "artifact": None})
    cases = _run(pytester, config)
    quality = [c for k, c in cases.items() if k.startswith("quality.")]
    assert quality and all(c.status == "error" for c in quality)
    assert "weights file is corrupt" in quality[0].message


def _golden() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE / "golden/credit/v1/credit.csv")


def _missing_age() -> pd.DataFrame:
    return _golden().drop(columns=["Age"])


def _text_in_age() -> pd.DataFrame:
    frame = _golden().astype({"Age": object})
    frame.loc[7, "Age"] = "forty"
    return frame


def _age_out_of_range() -> pd.DataFrame:
    frame = _golden()
    frame.loc[[3, 9], "Age"] = 150
    return frame


def _unknown_category() -> pd.DataFrame:
    frame = _golden()
    frame.loc[5, "Home"] = "castle"
    return frame


@pytest.mark.parametrize(
    ("make_golden", "failing", "message"),
    [
        (_missing_age, "Age.present", "column 'Age' is missing from 'credit-v1'"),
        (_text_in_age, "Age.dtype",
         # pandas 3 reads text as 'str', pandas 2 as 'object'.
         (f"column 'Age' in 'credit-v1' has dtype {pd.Series(['forty']).dtype}, expected "
         "integer "
         "(non-numeric values such as 'forty' at line 9)")),
        (_age_out_of_range, "Age.range",
         ("column 'Age' in 'credit-v1' has 2 values outside [18.0, 100.0], e.g. 150, 150 "
         "(line 5, line 11)")),
        (_unknown_category, "Home.allowed",
         "column 'Home' in 'credit-v1' has 1 values outside the allowed set, e.g. castle"),
    ],
    ids=["missing-column", "wrong-dtype", "out-of-range", "unknown-category"],
)
def test_schema_violations_fail_naming_the_column(pytester, model_artifact, make_golden,
                                                  failing, message):
    config = _project(pytester, model_artifact, golden=make_golden())
    cases = _run(pytester, config, "--harness-profile=schema-only")
    failed = {k: c for k, c in cases.items() if c.status == "failed"}
    assert list(failed) == [f"schema.credit-v1::{failing}"]
    assert failed[f"schema.credit-v1::{failing}"].message.startswith(message)
    assert not any(k.startswith("quality.") for k in cases)


def test_other_rules_of_a_missing_column_are_skipped(pytester, model_artifact):
    config = _project(pytester, model_artifact, golden=_missing_age())
    cases = _run(pytester, config, "--harness-profile=schema-only")
    assert cases["schema.credit-v1::Age.range"].status == "skipped"
    assert cases["schema.train::Age.range"].status == "passed"


def test_a_malformed_config_is_a_collection_error_naming_the_key(pytester, model_artifact):
    config = _project(pytester, model_artifact, model={"threshold": "high"})
    result = pytester.runpytest(str(config))
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*key 'model.threshold': Input should be a valid number*"])


def test_an_unknown_profile_is_a_collection_error(pytester, model_artifact):
    result = pytester.runpytest(str(_project(pytester, model_artifact)), "--harness-profile=nope")
    result.stdout.fnmatch_lines(["*no profile 'nope'*"])


def test_the_scores_are_marked_complete_after_the_gates_before_the_teams_tests(
        pytester, model_artifact):
    """What lets the engine draw the model's pictures while the team's tests still run."""
    config = _project(pytester, model_artifact)
    reports = pytester.path / "reports"
    pytester.makepyfile(test_team=f"""
        from pathlib import Path

        def test_after_the_gates():
            assert (Path({str(reports)!r}) / "scores/complete").exists()
            assert list((Path({str(reports)!r}) / "scores").glob("*.npz"))
    """)
    junit = pytester.path / "junit.xml"
    pytester.runpytest(str(config), "test_team.py", "--harness-profile=pr",
                       f"--harness-reports={reports}", f"--junitxml={junit}")
    cases, problems = read_junit([junit])
    assert not problems
    team = [c for c in cases if c.name == "test_after_the_gates"]
    assert [c.status for c in team] == ["passed"], team
    assert any(c.suite == "quality" for c in cases)
