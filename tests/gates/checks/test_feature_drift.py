"""Feature drift: PSI, KS and chi-square per schema column, as pure functions on frames, as
the check judges them, through the plugin, and refused in preflight without training data."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from harness.config import ColumnRule, FeatureDriftSpec, load_config
from harness.data import golden
from harness.gates.checks import feature_drift
from harness.gates.outcome import Outcome
from harness.stats import drift
from tests.support.cli import refused
from tests.support.project import EXAMPLE, edit_config, write_config

pytest_plugins = ["pytester"]

SPEC = FeatureDriftSpec()


@pytest.fixture(scope="module")
def credit() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference project's training and golden data."""
    return (pd.read_csv(EXAMPLE / "fixtures/credit/train.csv"),
            pd.read_csv(EXAMPLE / "golden/credit/v1/credit.csv"))


def _judge(reference: pd.DataFrame, current: pd.DataFrame, column: str, test: str):
    rule = load_config(EXAMPLE / "harness.yaml").data_schema.columns[column]
    return feature_drift.judge_column(reference[column], current[column], test,
                                      rule.dtype in feature_drift.NUMERIC_DTYPES, SPEC, column,
                                      "train", "credit-v1")


def test_psi_matches_a_hand_computation() -> None:
    # Reference 0..9: inner quartile edges 2.25, 4.5, 6.75, so the bins (.., 2.25],
    # (2.25, 4.5], (4.5, 6.75], (6.75, ..) hold 3, 2, 2, 3 of its 10 values.
    reference = pd.Series(range(10), dtype=float)
    assert list(drift.quantile_edges(reference, 4)) == [2.25, 4.5, 6.75]
    current = pd.Series([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9], dtype=float)  # 3, 2, 2, 5 of 12
    r = np.array([3, 2, 2, 3]) / 10
    c = np.array([3, 2, 2, 5]) / 12
    expected = float(np.sum((c - r) * np.log(c / r)))
    assert drift.psi(reference, current, numeric=True, bins=4) == pytest.approx(expected)
    assert drift.psi(reference, reference, numeric=True, bins=4) == 0.0


def test_categorical_psi_counts_missing_as_a_value_and_floors_empty_shares() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 50 + [None] * 50)
    # Shares: a 0.5/0.5, b 0.5/eps, (missing) eps/0.5.
    eps = drift.DEFAULT_EPSILON
    expected = 2 * (0.5 - eps) * math.log(0.5 / eps)
    assert drift.psi(reference, current, numeric=False) == pytest.approx(expected)


@pytest.mark.parametrize(("column", "test"), [("Income", "psi"), ("Income", "ks"),
                                              ("Home", "psi"), ("Home", "chi2")])
def test_a_resample_of_the_same_data_passes(credit, column: str, test: str) -> None:
    train, _ = credit
    resample = train.sample(n=1000, replace=True, random_state=7)
    result = _judge(train, resample, column, test)
    assert result.outcome is Outcome.PASSED, result.message


def test_a_shifted_numeric_column_fails_psi_and_ks(credit) -> None:
    train, gold = credit
    shifted = gold.assign(Income=gold["Income"] * 1.5)
    for test in ("psi", "ks"):
        result = _judge(train, shifted, "Income", test)
        assert result.outcome is Outcome.FAILED, result.message
        assert "column 'Income' of 'credit-v1' against train" in result.message
    assert _judge(train, gold, "Income", "psi").outcome is Outcome.PASSED


def test_a_shifted_categorical_column_fails_psi_and_chi_square(credit) -> None:
    train, gold = credit
    shifted = gold.assign(Home=np.where(gold.index % 2 == 0, "rent", gold["Home"]))
    for test in ("psi", "chi2"):
        result = _judge(train, shifted, "Home", test)
        assert result.outcome is Outcome.FAILED, result.message
    assert float(_judge(train, shifted, "Home", "chi2").properties.p_value) < SPEC.p_value_min


def test_a_small_sample_is_skipped_naming_the_key(credit) -> None:
    train, gold = credit
    result = _judge(train, gold.head(SPEC.min_rows - 1), "Age", "psi")
    assert result.outcome is Outcome.SKIPPED
    assert "gates.feature_drift.min_rows" in result.message


def test_a_column_gets_psi_and_its_types_test() -> None:
    assert feature_drift.tests_for(ColumnRule(dtype="integer")) == ("psi", "ks")
    assert feature_drift.tests_for(ColumnRule(dtype="string")) == ("psi", "chi2")


def _with_v2(folder: Path, frame: pd.DataFrame) -> None:
    """Record ``frame`` as golden credit v2, created after v1."""
    v2 = folder / "golden/credit/v2"
    v2.mkdir(parents=True)
    frame.to_csv(v2 / "credit.csv", index=False)
    manifest = golden.describe(v2, "credit", "v2", "test", created="2026-12-01")
    (v2 / golden.MANIFEST).write_text(manifest.to_json())


def _config(folder: Path, version: str) -> Path:
    """The reference config in ``folder``, its one golden set ``credit-<version>``, and a
    profile running feature_drift alone."""
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    scenario = {**data["load"]["scenario"], "dataset": f"credit-{version}"}
    return write_config(
        folder,
        golden=[{"name": f"credit-{version}", "path": f"golden/credit/{version}/credit.csv"}],
        training={"name": "train", "path": str(EXAMPLE / "fixtures/credit/train.csv")},
        load={**data["load"], "scenario": scenario},
        profiles={"drift": {"checks": ["feature_drift"]}},
    )


def test_the_previous_golden_version_is_the_one_created_before(tmp_path: Path, credit) -> None:
    shutil.copytree(EXAMPLE / "golden", tmp_path / "golden")
    _with_v2(tmp_path, credit[1])
    config = load_config(_config(tmp_path, "v2"))
    first = feature_drift.previous_version(config, Path("golden/credit/v1/credit.csv"))
    assert first.path is None and "first golden version" in first.why_none
    second = feature_drift.previous_version(config, Path("golden/credit/v2/credit.csv"))
    assert second.label == "credit v1"
    assert second.path == tmp_path / "golden/credit/v1/credit.csv"


def test_the_check_fails_a_shifted_golden_version_through_the_plugin(pytester, credit) -> None:
    from harness.run.verdict import read_junit

    shutil.copytree(EXAMPLE / "golden", pytester.path / "golden")
    gold = credit[1]
    _with_v2(pytester.path, gold.assign(Age=gold["Age"] + 15))
    config = _config(pytester.path, "v2")
    junit = pytester.path / "junit.xml"
    pytester.runpytest(str(config), f"--junitxml={junit}", "--harness-profile", "drift")
    cases, problems = read_junit([junit])
    assert not problems
    by_id = {f"{c.classname}::{c.name}": c for c in cases}
    columns = load_config(config).data_schema.columns
    assert len(by_id) == 2 * 2 * len(columns), "two tests, two comparisons per column"
    failed = sorted(k for k, c in by_id.items() if c.status == "failed")
    assert failed == ["feature_drift.credit-v2.previous::Age.ks",
                      "feature_drift.credit-v2.previous::Age.psi",
                      "feature_drift.credit-v2.training::Age.ks",
                      "feature_drift.credit-v2.training::Age.psi"]
    assert {c.status for k, c in by_id.items() if k not in failed} == {"passed"}
    psi = by_id["feature_drift.credit-v2.previous::Age.psi"].properties
    assert psi.reference == "credit v1" and psi.column == "Age" and psi.rows == len(gold)
    assert float(psi.value) > SPEC.psi_max


def test_feature_drift_without_training_data_is_refused(project: Path) -> None:
    edit_config(project, training=None,
                profiles={"pr": {"checks": ["schema", "feature_drift"]}})
    message = refused(project)
    assert "key 'training.path': feature_drift compares golden data with the training" in message
