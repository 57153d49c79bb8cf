"""A team's own model from the CLI alone: `harness init` in an empty folder, a few lines of
scikit-learn, bless, the pull-request check and the whole release on the generic server.

`harness init` runs in its own process in the end-to-end test and for one refusal; its other
cases run the CLI's ``main`` in this process (pandera's schema inference is imported once).
The team's model is blessed and checked in processes of their own: its module (``model``)
is never imported into this one, where another test's ``model`` may be."""

from __future__ import annotations

import contextlib
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from harness.candidate.artifact import artifact_digest
from tests.support.cli import Result, in_process
from tests.support.project import ROOT, TEARDOWN_GLASS
from tests.support.service_process import free_port

CANCER = ROOT / "examples" / "cancer"


def _run(folder: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=timeout,
                          check=False)


def _harness(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _run(folder, sys.executable, "-m", "harness", *args)


_CANCER_INIT = ("init", "--data", "cancer.csv", "--label", "diagnosis", "--positive",
                "malignant", "--entrypoint", "model:load", "--artifact", "artifacts/model",
                "--name", "cancer", "--manager", "ana", "--manager", "ben")


def _init(folder: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return _harness(folder, *_CANCER_INIT, *extra)


def _in_process(folder: Path, *args: str) -> Result:
    """``harness ARGS`` run from ``folder`` through the CLI's ``main`` in this process."""
    return in_process(folder / "harness.yaml", *args, cwd=folder)


def _init_in_process(folder: Path, *extra: str) -> Result:
    return _in_process(folder, *_CANCER_INIT, *extra)


@pytest.fixture
def team(tmp_path: Path) -> Path:
    """An empty folder outside this repository with the team's data and model code."""
    folder = tmp_path / "team"
    folder.mkdir()
    for name in ("cancer.csv", "model.py"):
        shutil.copy(CANCER / name, folder / name)
    return folder


@pytest.mark.end_to_end
def test_init_bless_check_and_release_with_no_hand_edits(team: Path) -> None:
    staging, production = free_port(), free_port()
    made = _init(team, "--staging-port", str(staging), "--production-port", str(production))
    assert made.returncode == 0, made.stderr
    assert "schema inferred with pandera" in made.stdout

    # What init wrote is what the committed example holds: it was onboarded this way.
    written = (team / "harness.yaml").read_text()
    committed = (CANCER / "harness.yaml").read_text()
    assert written.replace(f"port: {staging}", "port: 8111").replace(
        f"port: {production}", "port: 8112") == committed
    for name in ("data/train.csv", "golden/cancer/v1/cancer.csv"):
        assert (team / name).read_bytes() == (CANCER / name).read_bytes(), name

    assert _run(team, sys.executable, "model.py").returncode == 0
    blessed = _harness(team, "golden", "bless", "--by", "ana", "--reason", "first model")
    assert blessed.returncode == 0, blessed.stderr
    checked = _harness(team, "check", "--profile", "pr")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "PASSED" in checked.stdout

    try:
        released = _harness(team, "run", "--approver", "ana")
        assert released.returncode == 0, released.stdout + released.stderr
        assert "contract" in released.stdout  # the release checks test the HTTP contract
        version = httpx.get(f"http://127.0.0.1:{production}/version", timeout=5).json()
        assert version["artifact_sha256"] == artifact_digest(team / "artifacts/model")
    finally:
        _harness(team, "stop", "--env", "staging")
        _harness(team, "stop", "--env", "production", *TEARDOWN_GLASS)


def test_init_never_overwrites_a_file(team: Path) -> None:
    assert _init_in_process(team).returncode == 0
    before = {p: p.read_bytes() for p in team.rglob("*") if p.is_file()}
    again = _init(team)
    assert again.returncode == 2
    assert "never overwrites" in again.stderr and "harness.yaml" in again.stderr
    assert {p: p.read_bytes() for p in team.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(("args", "message"), [
    (("--label", "nope"), "no column 'nope' for --label"),
    (("--positive", "sick"), "--positive 'sick' is not a value of column 'diagnosis'"),
])
def test_init_refuses_a_label_it_cannot_find(team: Path, args: tuple[str, str],
                                             message: str) -> None:
    base = {"--data": "cancer.csv", "--label": "diagnosis", "--positive": "malignant",
            "--entrypoint": "model:load", "--artifact": "artifacts/model"}
    base[args[0]] = args[1]
    result = _in_process(team, "init", *(x for pair in base.items() for x in pair))
    assert result.returncode == 2 and message in result.stderr
    assert sorted(p.name for p in team.iterdir()) == ["cancer.csv", "model.py"]


def test_the_committed_example_config_loads_and_names_its_golden_data() -> None:
    data = yaml.safe_load((CANCER / "harness.yaml").read_text())
    assert data["model"]["entrypoint"] == "model:load"
    assert data["golden"] == [{"name": "cancer-v1", "path": "golden/cancer/v1/cancer.csv"}]


KIND_MODEL = """
import joblib, pandas as pd
from pathlib import Path
from sklearn.ensemble import {estimator}
frame = pd.read_csv("data/train.csv")
model = {estimator}(n_estimators=30, random_state=0).fit(frame.drop(columns=["{label}"]),
                                                         frame["{label}"])
Path("art").mkdir(exist_ok=True)
joblib.dump(model, "art/model.joblib")
"""


@pytest.mark.parametrize(("kind", "loader", "label", "estimator"), [
    ("multiclass", "load_wine", "cultivar", "RandomForestClassifier"),
    ("regression", "load_diabetes", "progression", "RandomForestRegressor"),
])
def test_init_infers_the_model_kind_and_its_first_model_passes(
        tmp_path: Path, kind: str, loader: str, label: str, estimator: str) -> None:
    import sklearn.datasets

    frame = getattr(sklearn.datasets, loader)(as_frame=True).frame.rename(
        columns={"target": label})
    if kind == "multiclass":
        frame[label] = frame[label].map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "model.py").write_text(
        "import joblib\n\ndef load(artifact):\n    return joblib.load(artifact / 'model.joblib')\n")
    made = _in_process(tmp_path, "init", "--data", "data.csv", "--label", label,
                       "--entrypoint", "model:load", "--artifact", "art", "--manager", "ana")
    assert made.returncode == 0, made.stderr
    assert f"model kind: {kind}, inferred from" in made.stdout
    assert yaml.safe_load((tmp_path / "harness.yaml").read_text())["model"]["kind"] == kind
    (tmp_path / "train.py").write_text(KIND_MODEL.format(estimator=estimator, label=label))
    with contextlib.chdir(tmp_path):  # the team's training script, run here: it is a script
        runpy.run_path("train.py")
    assert _harness(tmp_path, "golden", "bless", "--by", "ana", "--reason", "first").returncode == 0
    checked = _harness(tmp_path, "check", "--profile", "pr")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_init_refuses_positive_for_a_model_that_is_not_binary(tmp_path: Path) -> None:
    import sklearn.datasets

    sklearn.datasets.load_wine(as_frame=True).frame.to_csv(tmp_path / "wine.csv", index=False)
    result = _in_process(tmp_path, "init", "--data", "wine.csv", "--label", "target",
                         "--positive", "1", "--entrypoint", "m:load", "--artifact", "art")
    assert result.returncode == 2
    assert "--positive is for binary classifiers" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wine.csv"]


def test_init_records_the_team_s_build_and_says_to_run_it(team: Path) -> None:
    made = _init_in_process(team, "--build", "python model.py")
    assert made.returncode == 0, made.stderr
    text = (team / "harness.yaml").read_text()
    assert "  build: [python, model.py]\n" in text
    assert "# Next: `harness build` (runs python model.py), then" in text
    built = _harness(team, "build")
    assert built.returncode == 0, built.stderr
    assert (team / "artifacts/model/model.joblib").is_file()
