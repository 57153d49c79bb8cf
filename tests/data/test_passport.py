"""Passports: small JSON with the per-row scores in a NumPy file beside it, its digest
checked on every read; passports from before keep being read as they are."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness import golden_commands
from harness.config import load_config
from harness.data import passport
from harness.data.datasets import read_dataset
from harness.errors import GoldenIntegrityError
from harness.gates.recorded import passport_digests
from harness.model.adapters import features, open_model
from tests.support.project import EXAMPLE

FOLDER = "golden/passports/credit-v1"


def _harness(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=project,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_committed_passport_keeps_its_scores_in_json_and_is_read() -> None:
    config = load_config(EXAMPLE / "harness.yaml")
    [first] = passport.history(config, "credit-v1")
    assert first.scores_file is None and first.scores is not None
    assert len(first.baseline_scores()) == 1114
    assert "1114 rows, JSON scores" in passport.verify_current(config, passport_digests(config))[0]


@pytest.fixture
def blessed(project: Path) -> Path:
    config = load_config(project / "harness.yaml")
    golden_commands.bless(config, "ana", "the retrained model")
    return project


def test_a_blessing_writes_scores_beside_a_small_json(blessed: Path) -> None:
    config = load_config(blessed / "harness.yaml")
    record = json.loads((blessed / FOLDER / "0002.json").read_text())
    assert "scores" not in record and record["scores_file"] == "0002.scores.npy"
    scores = np.load(blessed / FOLDER / "0002.scores.npy", allow_pickle=False)
    assert scores.dtype == np.float64 and scores.shape == (1114,)
    model = open_model(config, config.model)
    frame = read_dataset("credit-v1", config.resolve(config.golden[0].path)).frame
    expected = model.predict_proba(features(frame, config.model))
    newest = passport.current(config, config.golden[0])
    assert newest is not None and newest.number == 2
    assert np.array_equal(newest.baseline_scores(), expected)
    # The JSON grows with the slices, not with the rows.
    assert (blessed / FOLDER / "0002.json").stat().st_size < 40_000


def test_changed_scores_are_refused_naming_the_file(blessed: Path) -> None:
    scores = blessed / FOLDER / "0002.scores.npy"
    data = bytearray(scores.read_bytes())
    data[-3] ^= 0x01
    scores.write_bytes(bytes(data))
    config = load_config(blessed / "harness.yaml")
    with pytest.raises(GoldenIntegrityError, match="0002.scores.npy: scores file changed"):
        passport.current(config, config.golden[0]).baseline_scores()  # type: ignore[union-attr]
    verify = _harness(blessed, "golden", "verify")
    assert verify.returncode == 2 and "0002.scores.npy: scores file changed" in verify.stderr
    check = _harness(blessed, "check", "--profile", "pr")
    assert check.returncode == 2 and "0002.scores.npy: scores file changed" in check.stderr
    assert not (blessed / "reports").exists()


def test_a_missing_scores_file_is_named(blessed: Path) -> None:
    (blessed / FOLDER / "0002.scores.npy").unlink()
    config = load_config(blessed / "harness.yaml")
    with pytest.raises(GoldenIntegrityError, match="0002.scores.npy: cannot read the scores"):
        passport.verify_current(config, passport_digests(config))


def test_a_half_finished_blessing_does_not_block_the_next(blessed: Path) -> None:
    # A blessing that stopped after its scores file: its number stays taken.
    (blessed / FOLDER / "0003.scores.npy").write_bytes(b"left behind")
    config = load_config(blessed / "harness.yaml")
    [line] = golden_commands.bless(config, "ben", "again")
    assert "0004.json" in line
    assert passport.current(config, config.golden[0]).number == 4  # type: ignore[union-attr]
