"""Model kinds: multiclass and regression metrics agree with scikit-learn, the kind is
inferred from a label column, configs name what does not fit the kind, and the examples
of each kind run through ``check --profile pr``: a regression whose error grows fails its
``vs_passport`` testcase while a reseeded one passes, and an unseen class is a schema
failure, not a crash. The multiclass example runs for real (``harness check`` in its own
process); the other runs are judged in this process, gate by gate as the plugin judges
them (tests/support/gate_runs.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn import metrics as skm

from harness.config import load_config
from harness.data.golden import add_version
from harness.errors import ConfigError
from harness.kinds import MULTICLASS, REGRESSION
from harness.kinds.inference import infer_kind
from harness.run.verdict import Verdict
from harness.stats import bootstrap
from tests.support.gate_runs import case, judge
from tests.support.kind_examples import configure, copy_example, train


@pytest.mark.parametrize(("values", "kind"), [
    (["good", "bad", "good"], "binary"),
    ([0, 1, 1, 0], "binary"),
    (["setosa", "versicolor", "virginica"], "multiclass"),
    ([0, 1, 2, 2, 1], "multiclass"),
    ([151.0, 75.0, 141.0, 206.0] * 10 + list(range(30, 60)), "regression"),
    ([0.5, 1.25, 3.0], "regression"),
])
def test_the_kind_is_inferred_from_the_label_column(values, kind) -> None:
    assert infer_kind(pd.Series(values)) == kind


def _multiclass_data(rows: int = 300, classes: int = 4) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    y = rng.integers(0, classes, rows)
    logits = rng.normal(size=(rows, classes)) + 1.5 * np.eye(classes)[y]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, probabilities


def test_multiclass_figures_are_scikit_learns() -> None:
    y, p = _multiclass_data()
    classes = ["a", "b", "c", "d"]
    predicted = p.argmax(axis=1)
    expected = {
        "log_loss": skm.log_loss(y, p),
        "accuracy": skm.accuracy_score(y, predicted),
        "f1_macro": skm.f1_score(y, predicted, average="macro"),
        "f1_weighted": skm.f1_score(y, predicted, average="weighted"),
        "roc_auc_ovr": skm.roc_auc_score(y, p, multi_class="ovr", average="macro"),
        "recall[c]": skm.recall_score(y, predicted, labels=[2], average=None)[0],
    }
    for name, value in expected.items():
        assert MULTICLASS.row_metric(name, y, p, classes, 0.5).value == pytest.approx(value)
    # Integer classes, as a model fitted on a CSV's numbers has them: names compare as text.
    assert MULTICLASS.row_metric("recall[2]", y, p, [0, 1, 2, 3], 0.5).value == (
        pytest.approx(expected["recall[c]"]))


def test_regression_figures_are_scikit_learns() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(150, 60, 400)
    predicted = y + rng.normal(0, 40, 400)
    expected = {
        "rmse": skm.root_mean_squared_error(y, predicted),
        "mae": skm.mean_absolute_error(y, predicted),
        "r2": skm.r2_score(y, predicted),
        "abs_error_p90": np.quantile(np.abs(predicted - y), 0.9),
    }
    for name, value in expected.items():
        assert REGRESSION.row_metric(name, y, predicted, [], 0.5).value == pytest.approx(value)


def test_a_paired_interval_finds_a_small_regression_error_growth() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(150, 60, 500)
    baseline = y + rng.normal(0, 40, 500)
    worse = baseline + rng.normal(0, 15, 500)
    def rmse(predicted: np.ndarray) -> bootstrap.RowMetric:
        return REGRESSION.row_metric("rmse", y, predicted, [], 0.5)

    same = bootstrap.paired(rmse(baseline), rmse(baseline), 500, 0.95, 0)
    assert same.difference.interval.low == same.difference.interval.high == 0
    grown = bootstrap.paired(rmse(worse), rmse(baseline), 500, 0.95, 0)
    assert grown.difference.value > 0 and grown.difference.interval.low > 0
    # Unpaired intervals of the two overlap: only pairing shows the growth.
    assert grown.candidate.interval.low < grown.baseline.interval.high


@pytest.mark.parametrize(("model", "message"), [
    ({"kind": "regression", "positive_label": None},
     "gates.quality.roc_auc is not a metric of a regression model"),
    ({"positive_label": None}, "a binary model needs 'positive_label'"),
    ({"kind": "multiclass"}, "'positive_label' is for binary models"),
])
def test_a_config_that_does_not_fit_its_kind_names_the_key(tmp_path: Path, model,
                                                           message) -> None:
    from tests.support.project import write_config

    path = write_config(tmp_path, model=model)
    for folder in ("golden", "fixtures"):
        (tmp_path / folder).symlink_to(Path(__file__).parents[2] / "examples/credit" / folder)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


@pytest.fixture(scope="module")
def wine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_example("wine", tmp_path_factory.mktemp("wine"))
    configure(project, artifact=str(train("wine", project, project / "artifacts" / "wine")))
    return project


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example("diabetes", tmp_path_factory.mktemp("diabetes"))


def test_the_multiclass_example_passes_its_pr_checks(wine: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "harness", "check", "--profile", "pr"],
                            check=False, cwd=wine, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "wine-v1 recall[class_1] 0.9600" in result.stdout
    junit = (wine / "reports/pr/junit/checks.xml").read_text()
    for expected in ("roc_auc_ovr.vs_passport", "recall[class_0]", "cultivar.known_classes",
                     'classname="quality.wine-v1.alcohol=13-16" name="accuracy"'):
        assert expected in junit
    assert (wine / "reports/pr/html/slices-wine-v1-accuracy.png").is_file()


def _check_diabetes(project: Path, artifact: Path) -> Verdict:
    configure(project, artifact=str(artifact))
    return judge(load_config(project / "harness.yaml"), "pr")


def test_a_regression_whose_error_grows_fails_vs_passport_and_a_reseeded_one_passes(
        diabetes: Path, tmp_path: Path) -> None:
    reseeded = _check_diabetes(diabetes, train("diabetes", diabetes, tmp_path / "seed1", seed=1))
    assert reseeded.passed, [c.message for c in reseeded.failures]
    versus = case(reseeded, "quality.diabetes-v1::rmse.vs_passport")
    assert float(versus.properties.difference) != 0, "another seed must change the model"

    worse = _check_diabetes(diabetes, train("diabetes", diabetes, tmp_path / "blind",
                                            drop=["bmi", "s5"]))
    assert not worse.passed
    ceiling = case(worse, "quality.diabetes-v1::rmse")
    assert ceiling.status == "passed", "the ceiling alone would let it through"
    versus = case(worse, "quality.diabetes-v1::rmse.vs_passport")
    assert versus.status == "failed"
    assert float(versus.properties.difference_ci_low) > 0, "worse on the paired interval"
    assert "more than the allowed 3.0000" in versus.message


def test_a_class_the_passport_never_saw_is_a_schema_failure(wine: Path, tmp_path: Path) -> None:
    frame = pd.read_csv(wine / "golden/wine/v1/wine.csv")
    frame.loc[len(frame)] = {**frame.iloc[0].to_dict(), "cultivar": "class_3"}
    changed = tmp_path / "wine.csv"
    frame.to_csv(changed, index=False)
    add_version(wine / "golden", "wine", "v2", [changed], "v1 and a row of a new cultivar")
    config = yaml.safe_load((wine / "harness.yaml").read_text())
    config["golden"][0]["path"] = "golden/wine/v2/wine.csv"
    # No passport was blessed on v2 (the pr profile is refused up front for that); judged
    # on its own, the new class is a schema failure and the quality gates an error.
    config["profiles"]["classes"] = {"checks": ["schema", "quality"], "baseline": "none"}
    (wine / "harness.yaml").write_text(yaml.safe_dump(config, sort_keys=False))

    verdict = judge(load_config(wine / "harness.yaml"), "classes")
    known = case(verdict, "schema.wine-v1::cultivar.known_classes")
    assert known.status == "failed"
    assert "class_3" in known.message and "passport #1 has never seen" in known.message
    assert "line 65" in known.message
    floor = case(verdict, "quality.wine-v1::accuracy")
    assert floor.status == "error" and "classes the model does not know (class_3)" in floor.message
