"""The two ways to reach a model agree, and an unreachable service is a clear error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from harness.config import load_config
from harness.errors import ConfigError, ModelLoadError, TargetUnreachable
from harness.model.adapters import HttpModel, PythonModel, features, open_model
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port


@pytest.fixture
def config(tmp_path: Path, model_artifact: Path):
    return load_config(write_config(
        tmp_path,
        model={"artifact": str(model_artifact)},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None,
        profiles={"pr": {"checks": ["quality"]}},
    ))


@pytest.fixture
def golden() -> pd.DataFrame:
    return pd.read_csv(EXAMPLE / "golden/credit/v1/credit.csv")


def test_http_and_in_process_adapters_agree_on_the_golden_set(config, golden, service_url):
    spec = config.model
    in_process = open_model(config)
    # A small batch size makes the HTTP adapter split the golden set over many requests.
    over_http = open_model(config, spec.model_copy(update={"adapter": "http", "url": service_url,
                                                            "batch_size": 97}))
    assert isinstance(in_process, PythonModel) and isinstance(over_http, HttpModel)
    rows = features(golden, spec)
    local, remote = in_process.predict_proba(rows), over_http.predict_proba(rows)
    assert local.shape == remote.shape == (len(golden),)
    assert rows["Income"].isna().any(), "the golden set must exercise missing values"
    np.testing.assert_allclose(local, remote, rtol=0, atol=1e-12)
    assert local.std() > 0.05, "a model that predicts a constant would agree trivially"


class _Counting:
    """A model that records how many rows each call scores."""

    def __init__(self, inner) -> None:
        self.inner, self.calls = inner, []

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        self.calls.append(len(frame))
        return self.inner.predict_proba(frame)


def test_a_big_frame_scores_in_chunks_as_it_would_whole(config, model_artifact, golden):
    from credit_model.model import load_model

    credit = load_model(model_artifact)
    counting = _Counting(credit)
    model = PythonModel(counting, "test:counting", "bad", 0.5, "good")
    rows = features(pd.concat([golden] * 60, ignore_index=True), config.model)
    chunked = model.predict_proba(rows)
    assert counting.calls == [65_536, len(rows) - 65_536]
    np.testing.assert_array_equal(chunked, credit.predict_proba(rows))


def test_a_service_that_is_down_is_named(config, golden):
    url = f"http://127.0.0.1:{free_port()}"
    model = HttpModel(url, batch_size=10, timeout_s=2)
    with pytest.raises(TargetUnreachable, match=rf"{url}/predict/batch is unreachable"):
        model.predict_proba(features(golden.head(3), config.model))


def test_a_service_error_is_reported_with_its_status(config, golden, service_url):
    rows = features(golden.head(2), config.model).assign(Age=[5, 30])  # Age 5 is invalid
    with pytest.raises(TargetUnreachable, match=r"answered 422.*Age"):
        HttpModel(service_url, batch_size=10, timeout_s=5).predict_proba(rows)


def test_a_missing_artifact_says_what_to_do(config, tmp_path):
    spec = config.model.model_copy(update={"artifact": tmp_path / "nowhere"})
    with pytest.raises(ModelLoadError, match="does not exist; train or download the model"):
        open_model(config, spec)


def test_an_entrypoint_that_cannot_be_imported_is_named(config):
    spec = config.model.model_copy(update={"entrypoint": "no_such_module:load"})
    with pytest.raises(ModelLoadError, match="'no_such_module:load' cannot be imported"):
        open_model(config, spec)


def _string_label_pipeline(tmp_path: Path, golden: pd.DataFrame) -> Path:
    """A team's entry point: a scikit-learn pipeline fitted on the string labels, so its
    classes_ are ['bad', 'good'] and the positive class 'bad' is the first column."""
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    numeric = ["Seniority", "Age", "Expenses", "Income", "Assets", "Debt", "Amount", "Price"]
    model = make_pipeline(make_column_transformer((SimpleImputer(), numeric)),
                          LogisticRegression(max_iter=2000))
    model.fit(golden[numeric], golden["Status"])
    assert list(model.classes_) == ["bad", "good"]
    import joblib

    joblib.dump(model, tmp_path / "pipeline.joblib")
    (tmp_path / "team_model.py").write_text(
        "import joblib\n\ndef load(artifact):\n    return joblib.load(artifact)\n")
    return tmp_path / "pipeline.joblib"


def test_the_positive_class_is_scored_by_classes_not_by_column_order(tmp_path, golden):
    artifact = _string_label_pipeline(tmp_path, golden)
    config = load_config(write_config(
        tmp_path, model={"entrypoint": "team_model:load", "artifact": str(artifact)},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None, profiles={"pr": {"checks": ["quality"]}}))
    scores = open_model(config).predict_proba(features(golden, config.model))
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(golden["Status"] == "bad", scores)
    assert auc > 0.7, f"P('bad') must rank the bad loans first, got ROC AUC {auc:.3f}"


def test_a_positive_label_outside_the_classes_is_a_config_error(tmp_path, golden):
    artifact = _string_label_pipeline(tmp_path, golden)
    config = load_config(write_config(
        tmp_path, model={"entrypoint": "team_model:load", "artifact": str(artifact),
                         "positive_label": "default"},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None, profiles={"pr": {"checks": ["quality"]}}))
    with pytest.raises(ConfigError, match=r"model.positive_label 'default' is not among the "
                                          r"classes 'team_model:load' was fitted on \('bad', "
                                          r"'good'\)") as excinfo:
        open_model(config)
    assert excinfo.value.exit_code == 2


def test_the_config_folder_is_importable_for_the_entry_point(tmp_path, golden):
    """The team's module sits beside harness.yaml; no PYTHONPATH needed."""
    artifact = _string_label_pipeline(tmp_path, golden)
    config = load_config(write_config(
        tmp_path, model={"entrypoint": "team_model:load", "artifact": str(artifact)},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None, profiles={"pr": {"checks": ["quality"]}}))
    assert isinstance(open_model(config), PythonModel)
