"""deepchecks suites as testcases: real deepchecks on the real credit data, in real pytest
sessions; a failed condition must fail its testcase (deepchecks' own JUnit would pass it)."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.checks import deepchecks_suite
from harness.errors import HarnessError
from tests.conftest import EXAMPLE
from tests.test_plugin import _project, _run

pytest_plugins = ["pytester"]


def _nightly(pytester, model_artifact, golden=None, suites=("data_integrity",), exclude=()):
    """The plugin tests' project, with a profile that runs only the given deepchecks suites."""
    config = _project(pytester, model_artifact, golden,
                      deepchecks={"suites": list(suites), "exclude": list(exclude)})
    data = yaml.safe_load(config.read_text())
    data["profiles"]["nightly"] = {"checks": ["deepchecks"], "baseline": "none"}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def test_a_corrupted_column_fails_its_integrity_condition(pytester, model_artifact):
    frame = pd.read_csv(EXAMPLE / "golden/credit/v1/credit.csv")
    # The same missing value spelled four ways: deepchecks' Mixed Nulls condition allows one.
    frame["Job"] = frame["Job"].astype(object)
    for i, spelling in enumerate(["N/A", "null", "none", "?"]):
        frame.loc[frame.index[i::40], "Job"] = spelling
    config = _nightly(pytester, model_artifact, frame)
    reports = pytester.path / "reports"
    cases = _run(pytester, config, "--harness-profile=nightly", f"--harness-reports={reports}")
    mixed = cases["deepchecks.data_integrity.credit-v1::mixed_nulls"]
    assert mixed.status == "failed", mixed
    assert "Job" in mixed.message and "null" in mixed.message.lower()
    assert mixed.properties["check"] == "Mixed Nulls"
    assert mixed.properties["html"] == "deepchecks/data_integrity.credit-v1.html"
    assert cases["deepchecks.data_integrity.credit-v1::data_duplicates"].status == "passed"
    # A check that does not apply to this data is skipped, with deepchecks' reason.
    identifier = cases["deepchecks.data_integrity.credit-v1::identifier_label_correlation"]
    assert identifier.status == "skipped"
    assert "could not run" in identifier.message and "index" in identifier.message
    html = reports / "deepchecks/data_integrity.credit-v1.html"
    assert html.stat().st_size > 1000 and "Mixed Nulls" in html.read_text(errors="replace")


def test_clean_data_passes_and_excluded_checks_are_not_listed(pytester, model_artifact):
    config = _nightly(pytester, model_artifact,
                      suites=("train_test_validation", "model_evaluation"),
                      exclude=("multivariate_drift", "train_test_performance"))
    cases = _run(pytester, config, "--harness-profile=nightly")
    assert not [k for k, c in cases.items() if c.status in ("failed", "error")]
    assert "deepchecks.train_test_validation.credit-v1::feature_drift" in cases
    assert "deepchecks.model_evaluation.credit-v1::roc_report" in cases
    assert not [k for k in cases if k.endswith(("multivariate_drift", "train_test_performance"))]
    assert cases["deepchecks.model_evaluation.credit-v1::roc_report"].status == "passed"


def test_an_unknown_excluded_check_is_a_collection_error(pytester, model_artifact):
    config = _nightly(pytester, model_artifact, exclude=("no_such_check",))
    result = pytester.runpytest(str(config), "--harness-profile=nightly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*deepchecks.exclude*no_such_check*"])


def test_without_deepchecks_the_error_says_how_to_install(monkeypatch):
    # An entry of None in sys.modules makes that import fail, as if it were not installed.
    monkeypatch.setitem(sys.modules, "deepchecks.tabular", None)
    with pytest.raises(HarnessError, match=r"install harness\[deepchecks\]"):
        deepchecks_suite.build_suite("data_integrity", [])


def test_the_model_adapter_answers_for_both_classes():
    class Half:
        def predict_proba(self, frame):
            return np.linspace(0, 1, len(frame))

    adapter = deepchecks_suite.ModelAdapter(Half(), "bad", "good", 0.5)
    frame = pd.DataFrame({"x": range(5)})
    proba = adapter.predict_proba(frame)
    assert list(adapter.classes_) == ["bad", "good"]
    assert np.allclose(proba[:, 0], np.linspace(0, 1, 5)) and np.allclose(proba.sum(axis=1), 1)
    assert list(adapter.predict(frame)) == ["good", "good", "bad", "bad", "bad"]


def test_check_keys_are_testcase_names():
    assert deepchecks_suite.check_key("Train Test Samples Mix") == "train_test_samples_mix"
    assert deepchecks_suite.check_key("ROC Report ") == "roc_report"
