"""Training and loading: reproducible artifacts, seeds that matter, tamper refusal."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from credit_model.artifact import METADATA_FILE, MODEL_FILE, sha256_file, write_atomically
from credit_model.features import FEATURES
from credit_model.model import load_model
from credit_model.train import train

SAMPLE_ROWS = 300


def test_same_inputs_give_identical_artifact(
    artifact: Path, train_data: Path, tmp_path: Path
) -> None:
    again = train(train_data, tmp_path / "again", seed=0, sample=600)
    assert sha256_file(again / MODEL_FILE) == sha256_file(artifact / MODEL_FILE)
    metadata = json.loads((again / METADATA_FILE).read_text())
    assert metadata["artifact_sha256"] == sha256_file(again / MODEL_FILE)
    assert metadata["training_data_sha256"] == sha256_file(train_data)
    assert metadata["features"] == FEATURES


def test_different_seed_gives_different_predictions(train_data: Path, tmp_path: Path) -> None:
    # All rows, so only the boosting's row subsampling depends on the seed; few trees for speed.
    few_trees = {"n_estimators": 30}
    first = load_model(train(train_data, tmp_path / "s0", seed=0, params=few_trees))
    second = load_model(train(train_data, tmp_path / "s1", seed=1, params=few_trees))
    frame = pd.read_csv(train_data).head(50)
    assert not np.allclose(first.predict_proba(frame), second.predict_proba(frame))


def test_tampered_model_is_refused(artifact: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(artifact, tmp_path / "tampered"))
    with open(copy / MODEL_FILE, "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(ValueError, match=MODEL_FILE):
        load_model(copy)


def test_missing_artifact_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=MODEL_FILE):
        load_model(tmp_path)


def test_probabilities_are_one_per_row_in_unit_interval(artifact: Path, train_data: Path) -> None:
    model = load_model(artifact)
    frame = pd.read_csv(train_data).head(200)  # includes the Status column, which is ignored
    probabilities = model.predict_proba(frame)
    assert probabilities.shape == (200,)
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert set(model.predict_label(frame)) <= {"good", "bad"}


def test_dropped_feature_is_ignored(train_data: Path, tmp_path: Path) -> None:
    model = load_model(
        train(train_data, tmp_path / "drop", seed=0, sample=SAMPLE_ROWS, drop_features=["Income"])
    )
    frame = pd.read_csv(train_data).head(20)
    changed = frame.assign(Income=frame["Income"] * 10)
    assert np.array_equal(model.predict_proba(frame), model.predict_proba(changed))
    assert json.loads((tmp_path / "drop" / METADATA_FILE).read_text())["dropped_features"] == [
        "Income"
    ]


def test_crash_while_writing_leaves_previous_artifact(artifact: Path, tmp_path: Path) -> None:
    target = Path(shutil.copytree(artifact, tmp_path / "credit"))
    before = sha256_file(target / MODEL_FILE)

    def crash(directory: Path) -> None:
        (directory / MODEL_FILE).write_bytes(b"half a model")
        raise RuntimeError("killed mid-write")

    with pytest.raises(RuntimeError):
        write_atomically(target, crash)
    assert sha256_file(target / MODEL_FILE) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credit"]


def test_bad_training_data_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Status,Age\nmaybe,30\n")
    with pytest.raises(ValueError, match="Status"):
        train(bad, tmp_path / "out")
    assert not (tmp_path / "out").exists()
