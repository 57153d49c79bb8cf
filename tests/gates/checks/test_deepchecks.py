"""deepchecks suites as testcases: real deepchecks, in its own cached virtualenv, on the
real credit data, in real pytest sessions; a failed condition must fail its testcase
(deepchecks' own JUnit would pass it), and the harness's process never imports deepchecks."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import yaml

from harness.config import load_config
from harness.gates import deepchecks_env
from harness.gates.checks import deepchecks as deepchecks_suite
from harness.run.verdict import read_junit
from tests.support.plugin_sessions import _project, _run
from tests.support.project import EXAMPLE

pytest_plugins = ["pytester"]


def _nightly(pytester, model_artifact, golden=None, suites=("data_integrity",), exclude=(),
             **deepchecks):
    """The plugin tests' project, with a profile that runs only the given deepchecks suites."""
    config = _project(pytester, model_artifact, golden,
                      deepchecks={"suites": list(suites), "exclude": list(exclude),
                                  **deepchecks})
    data = yaml.safe_load(config.read_text())
    data["profiles"]["nightly"] = {"checks": ["deepchecks"], "baseline": "none"}
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    return config


def _errors(cases):
    return {c.message for c in cases.values() if c.status == "error"}


def _erred(pytester, config):
    """Run the nightly profile where every item must error with one message: the number
    of items, and pytest's report of that message in full (JUnit's attribute is cut)."""
    junit = pytester.path / "junit.xml"
    result = pytester.runpytest(str(config), "--harness-profile=nightly", f"--junitxml={junit}")
    cases, _ = read_junit([junit])
    assert cases and {c.status for c in cases} == {"error"}
    assert len({c.message for c in cases}) == 1
    return len(cases), result.stdout.str()


def test_a_corrupted_column_fails_its_integrity_condition(pytester, model_artifact,
                                                         deepchecks_environment):
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
    assert mixed.properties.check == "Mixed Nulls"
    assert mixed.properties.html == "deepchecks/data_integrity.credit-v1.html"
    assert mixed.properties.conditions_failed == 1
    assert cases["deepchecks.data_integrity.credit-v1::data_duplicates"].status == "passed"
    # A check that does not apply to this data is skipped, with deepchecks' reason.
    identifier = cases["deepchecks.data_integrity.credit-v1::identifier_label_correlation"]
    assert identifier.status == "skipped"
    assert "could not run" in identifier.message and "index" in identifier.message
    assert identifier.properties.status == "could_not_run"
    html = reports / "deepchecks/data_integrity.credit-v1.html"
    assert html.stat().st_size > 1000 and "Mixed Nulls" in html.read_text(errors="replace")


def test_clean_data_passes_and_excluded_checks_are_not_listed(pytester, model_artifact,
                                                              deepchecks_environment):
    config = _nightly(pytester, model_artifact,
                      suites=("train_test_validation", "model_evaluation"),
                      exclude=("multivariate_drift", "train_test_performance"))
    cases = _run(pytester, config, "--harness-profile=nightly")
    assert not [k for k, c in cases.items() if c.status in ("failed", "error")]
    assert "deepchecks.train_test_validation.credit-v1::feature_drift" in cases
    assert not [k for k in cases if k.endswith(("multivariate_drift", "train_test_performance"))]
    evaluation = "deepchecks.model_evaluation.credit-v1::"
    # Scored from the model's predictions and class probabilities, made in this process.
    for key in ("roc_report", "prediction_drift", "simple_model_comparison",
                "calibration_score", "weak_segments_performance"):
        assert cases[evaluation + key].status == "passed", cases[evaluation + key]
    # The checks that need the model object itself say so.
    timing = cases[evaluation + "model_inference_time"]
    assert timing.status == "skipped" and "given the model's predictions" in timing.message
    assert cases[evaluation + "boosting_overfit"].status == "skipped"
    assert "Feature Importance" in cases[evaluation + "unused_features"].message
    # The harness ran all that without deepchecks in its own process (pytester runs here).
    assert not [name for name in sys.modules if name.split(".")[0] == "deepchecks"]


def test_a_suite_without_its_inputs_errors_alone(pytester, model_artifact,
                                                 deepchecks_environment):
    config = _nightly(pytester, model_artifact, suites=("data_integrity", "train_test_validation"))
    data = yaml.safe_load(config.read_text())
    del data["training"]
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    cases = _run(pytester, config, "--harness-profile=nightly")
    validation = {k: c for k, c in cases.items() if ".train_test_validation." in k}
    assert validation and {c.status for c in validation.values()} == {"error"}
    assert len(_errors(validation)) == 1 and "set 'training'" in _errors(validation).pop()
    assert cases["deepchecks.data_integrity.credit-v1::mixed_nulls"].status == "passed"


def test_an_unknown_excluded_check_is_a_collection_error(pytester, model_artifact,
                                                         deepchecks_environment):
    config = _nightly(pytester, model_artifact, exclude=("no_such_check",))
    result = pytester.runpytest(str(config), "--harness-profile=nightly")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*deepchecks.exclude*no_such_check*(known: *mixed_nulls*"])


def test_a_broken_environment_is_one_clear_error(pytester, model_artifact,
                                                 deepchecks_environment, tmp_path,
                                                 monkeypatch):
    # A virtualenv that was complete (its marker and its check list) and then lost
    # deepchecks: collection works from the list, the run crashes in deepchecks' process.
    monkeypatch.setenv(deepchecks_env.CACHE_ENV, str(tmp_path))
    broken = deepchecks_env.env_folder()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(broken)], check=True)
    for name in (deepchecks_env.MARKER, deepchecks_env.CHECKS):
        shutil.copy(deepchecks_environment.folder / name, broken / name)
    errors, output = _erred(pytester, _nightly(pytester, model_artifact))
    assert errors == 12  # the data-integrity checks, each with the same message
    assert "DeepchecksRunError: deepchecks failed running its suites (exit 1)" in output
    assert str(broken) in output and "| ModuleNotFoundError: No module named 'deepchecks'" in (
        output)
    assert "remove that folder and run `harness deepchecks install`" in output


def test_an_overrun_stops_deepchecks_with_one_error(pytester, model_artifact,
                                                    deepchecks_environment):
    _, output = _erred(pytester, _nightly(pytester, model_artifact, timeout_s=0.5))
    assert ("DeepchecksRunError: deepchecks did not finish running its suites within 0.5 s "
            "(deepchecks.timeout_s); raise it, or leave slow checks out with "
            "deepchecks.exclude") in output


def test_predictions_are_what_deepchecks_takes_for_each_kind(project):
    config = load_config(project / "harness.yaml")
    scores = np.array([0.9, 0.2, 0.5])
    classes = deepchecks_suite.model_classes(
        pd.DataFrame({"Status": ["good", "bad", "good"]}), config, [])
    assert classes == ["bad", "good"] and config.model.positive_label == "bad"
    labels, proba = deepchecks_suite.predictions(scores, config, classes)
    assert labels == ["bad", "good", "bad"]  # at the threshold, 0.5, the positive class
    assert np.allclose(proba, [[0.9, 0.1], [0.2, 0.8], [0.5, 0.5]])

    multiclass = config.model_copy(update={"model": config.model.model_copy(
        update={"kind": "multiclass"})})
    fitted = ["versicolor", "setosa", "virginica"]  # the model's own column order
    classes = deepchecks_suite.model_classes(None, multiclass, fitted)
    assert classes == ["setosa", "versicolor", "virginica"]
    labels, proba = deepchecks_suite.predictions(
        np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]), multiclass, classes, fitted)
    assert labels == ["versicolor", "virginica"]
    assert np.allclose(proba, [[0.2, 0.7, 0.1], [0.3, 0.1, 0.6]])

    regression = config.model_copy(update={"model": config.model.model_copy(
        update={"kind": "regression"})})
    assert deepchecks_suite.model_classes(None, regression, []) is None
    assert deepchecks_suite.predictions(np.array([1.5, 2.0]), regression, None) == (
        [1.5, 2.0], None)


def test_check_keys_are_testcase_names():
    assert deepchecks_suite.check_key("Train Test Samples Mix") == "train_test_samples_mix"
    assert deepchecks_suite.check_key("ROC Report ") == "roc_report"
    checks = [deepchecks_env.CheckInfo(0, "Feature Drift"),
              deepchecks_env.CheckInfo(1, "Mixed Nulls"),
              deepchecks_env.CheckInfo(2, "Feature Drift")]
    assert [(s.key, s.index) for s in deepchecks_suite.suite_slots(checks, ["mixed_nulls"])] == [
        ("feature_drift", 0), ("feature_drift_2", 2)]
