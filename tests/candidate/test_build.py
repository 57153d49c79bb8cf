"""``harness build``: the team's own build (``model.build``) run as every pipeline runs it,
then the artifact it made checked; and ``harness publish --if-configured``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

TRAIN = """\
import sys
from pathlib import Path
out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
(out / "model.txt").write_text(sys.executable)
"""


def harness(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=folder,
                          capture_output=True, text=True, timeout=120, check=False)


def _project(folder: Path, build: list[str] | None) -> Path:
    """A team's config with its build and no registry: the smallest a build needs."""
    (folder / "train.py").write_text(TRAIN)
    model = {"name": "loans", "entrypoint": "loans:load", "artifact": "artifacts/model",
             "label_column": "default", "positive_label": "yes",
             **({"build": build} if build else {})}
    config = {"project": "loans", "model": model,
              "schema": {"columns": {"age": {"dtype": "integer"}}},
              "profiles": {"pr": {"checks": ["schema"]}}}
    (folder / "harness.yaml").write_text(yaml.safe_dump(config))
    return folder / "harness.yaml"


def test_the_build_runs_from_the_config_s_folder_with_the_harness_s_python(
        tmp_path: Path) -> None:
    project = tmp_path / "team"
    project.mkdir()
    _project(project, ["python", "train.py", "artifacts/model"])
    result = harness(tmp_path, "--config", "team/harness.yaml", "build")
    assert result.returncode == 0, result.stderr
    assert f"artifact: {project / 'artifacts/model'} (built by model.build)" in result.stdout
    assert "sha256: " in result.stdout
    # `python` in the command is the interpreter the harness runs on, not the system's.
    assert (project / "artifacts/model/model.txt").read_text() == sys.executable


def test_a_failing_build_and_a_build_that_makes_nothing_are_refused(tmp_path: Path) -> None:
    _project(tmp_path, ["python", "-c", "raise SystemExit(3)"])
    failed = harness(tmp_path, "build")
    assert failed.returncode == 2
    assert "exited 3; its output is above" in failed.stderr
    _project(tmp_path, ["python", "-c", "pass"])
    empty = harness(tmp_path, "build")
    assert empty.returncode == 2
    assert "the build ran but left no artifact" in empty.stderr
    assert "key 'model.artifact'" in empty.stderr
    _project(tmp_path, ["no-such-program-anywhere"])
    missing = harness(tmp_path, "build")
    assert missing.returncode == 2 and "cannot run 'no-such-program-anywhere'" in missing.stderr
    assert "Traceback" not in failed.stderr + empty.stderr + missing.stderr


def test_without_a_build_the_artifact_must_already_be_there(tmp_path: Path) -> None:
    _project(tmp_path, None)
    absent = harness(tmp_path, "build")
    assert absent.returncode == 2
    assert "model.build is not set and" in absent.stderr and "does not exist" in absent.stderr
    (tmp_path / "artifacts/model").mkdir(parents=True)
    (tmp_path / "artifacts/model/weights").write_text("w")
    present = harness(tmp_path, "build")
    assert present.returncode == 0
    assert "(model.build is not set; found)" in present.stdout


def test_publish_if_configured_says_so_without_a_registry(tmp_path: Path) -> None:
    _project(tmp_path, None)
    skipped = harness(tmp_path, "publish", "--if-configured", "--write", "ref.txt")
    assert skipped.returncode == 0
    assert "not published: " in skipped.stdout and "no 'registry' section" in skipped.stdout
    assert not (tmp_path / "ref.txt").exists()
    refused = harness(tmp_path, "publish")
    assert refused.returncode == 2 and "no 'registry' section" in refused.stderr


def test_the_build_records_what_made_the_artifact_beside_it(tmp_path: Path) -> None:
    """Lineage: the code revision the build passes (or git's), the command as the config
    writes it, the training data's digest and when; bound to the artifact's sha256."""
    import hashlib
    import json
    import os

    from harness.candidate.artifact import artifact_digest
    from harness.candidate.lineage import read

    config = _project(tmp_path, ["python", "train.py", "artifacts/model"])
    data = yaml.safe_load(config.read_text())
    (tmp_path / "train.csv").write_text("age,default\n30,no\n40,yes\n")
    data["training"] = {"name": "train", "path": "train.csv"}
    config.write_text(yaml.safe_dump(data))
    result = subprocess.run([sys.executable, "-m", "harness", "build"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "HARNESS_CODE_REVISION": "abc123"})
    assert result.returncode == 0, result.stderr
    artifact = tmp_path / "artifacts/model"
    assert f"lineage: {tmp_path / 'artifacts/model.lineage.json'}" in result.stdout
    recorded = json.loads((tmp_path / "artifacts/model.lineage.json").read_text())
    assert recorded["code_revision"] == "abc123"
    assert recorded["command"] == ["python", "train.py", "artifacts/model"]
    assert recorded["training_data"] == "train.csv"
    assert recorded["training_sha256"] == hashlib.sha256(
        (tmp_path / "train.csv").read_bytes()).hexdigest()
    assert recorded["started_at"] <= recorded["finished_at"]
    assert "." not in recorded["finished_at"], "to the second"
    sha256 = artifact_digest(artifact)
    assert recorded["artifact_sha256"] == sha256
    # The lineage is outside the artifact: its digest is the bytes the build wrote alone.
    assert sorted(p.name for p in artifact.iterdir()) == ["model.txt"]
    assert read(artifact, sha256) is not None
    assert read(artifact, "0" * 64) is None, "a lineage of other bytes is not shown"


PARAMS = TRAIN + """\
import os
Path(os.environ["HARNESS_BUILD_PARAMS"]).write_text(sys.argv[2])
"""


def test_the_build_s_parameters_are_recorded_in_its_lineage(tmp_path: Path) -> None:
    """What the build writes to $HARNESS_BUILD_PARAMS (one JSON object) is its parameters;
    anything else is refused with the file named, and no lineage is written."""
    import json

    config = _project(tmp_path, ["python", "train.py", "artifacts/model",
                                 '{"learning_rate": 0.1, "trees": 300}'])
    (tmp_path / "train.py").write_text(PARAMS)
    result = harness(tmp_path, "build")
    assert result.returncode == 0, result.stderr
    recorded = json.loads((tmp_path / "artifacts/model.lineage.json").read_text())
    assert recorded["parameters"] == {"learning_rate": 0.1, "trees": 300}

    (tmp_path / "artifacts/model.lineage.json").unlink()
    for written, says in [("[1, 2]", "are a JSON list, not an object"),
                          ("{not json", "are not JSON")]:
        data = yaml.safe_load(config.read_text())
        data["model"]["build"] = ["python", "train.py", "artifacts/model", written]
        config.write_text(yaml.safe_dump(data))
        refused = harness(tmp_path, "build")
        assert refused.returncode == 2, refused.stderr
        assert "the build's parameters (HARNESS_BUILD_PARAMS, " in refused.stderr
        assert says in refused.stderr and "Traceback" not in refused.stderr
        assert not (tmp_path / "artifacts/model.lineage.json").exists()
