"""``harness check`` end to end, as a user runs it: a real process, real files. One passing
run of the reference copy is shared by the tests that read what it left (its reports, its
history) or copy it to run again; a refusal whose path test_preflight.py runs for real runs
through the CLI's ``main`` here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.run.verdict import decide
from tests.support.cli import harness, in_process
from tests.support.project import EXAMPLE, reference_copy, write_config


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory,
            model_artifact: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """A copy of the reference project after ``harness check --profile pr``, and that run; the
    tests read it, or copy it."""
    project = reference_copy(tmp_path_factory.mktemp("checked"), model_artifact)
    return project, harness(project, "check", "--profile", "pr")


def test_check_passes_and_writes_junit(checked: tuple[Path, subprocess.CompletedProcess[str]]
                                       ) -> None:
    project, result = checked
    assert result.returncode == 0, result.stdout + result.stderr
    assert "harness check --profile pr: PASSED" in result.stdout
    junit = project / "reports/pr/junit/checks.xml"
    verdict = decide([junit])
    assert verdict.passed and {c.suite for c in verdict.cases} == {"schema", "quality"}
    assert not list((project / "reports").glob(".pr-*")), "no staging folder is left behind"
    # Readable by a Jenkins user other than the agent's, as golden data is.
    assert (project / "reports/pr").stat().st_mode & 0o777 == 0o755
    assert {p.stat().st_mode & 0o777 for p in (project / "reports/pr").rglob("*")} <= {0o755,
                                                                                     0o644}


def test_paths_on_the_command_line_are_relative_to_the_current_folder(
        tmp_path: Path, model_artifact: Path) -> None:
    """As a Jenkins stage runs it: from the workspace root, the config in a sub-folder."""
    models = tmp_path / "workspace/models/credit"
    for folder in ("golden", "fixtures", "credit_model"):
        shutil.copytree(EXAMPLE / folder, models / folder)
    write_config(models, model={"artifact": str(model_artifact)},
                 profiles={"pr": {"checks": ["schema"]}})
    workspace = tmp_path / "workspace"
    result = harness(workspace, "--config", "models/credit/harness.yaml", "check",
                     "--profile", "pr", "--reports", "reports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert decide([workspace / "reports/pr/junit/checks.xml"]).passed
    assert (workspace / "reports/pr/html/index.html").is_file()
    assert not (models / "reports").exists(), "reports went beside the config"
    assert not list((workspace / "reports").glob(".*")), "a staging folder was left"


def test_version_names_the_installed_release() -> None:
    result = harness(Path.cwd(), "--version")
    assert result.returncode == 0 and result.stdout.startswith("harness ")


def test_a_failing_gate_exits_non_zero_and_says_why(project: Path) -> None:
    (project / "constant_model.py").write_text(
        "import numpy as np\n"
        "class M:\n    def predict_proba(self, f): return np.full(len(f), 0.3)\n"
        "def load(): return M()\n"
    )
    write_config(project, model={"entrypoint": "constant_model:load", "artifact": None},
                 profiles={"pr": {"checks": ["schema", "quality"]}})
    result = harness(project, "check", "--profile", "pr")
    assert result.returncode == 1
    assert "FAILED" in result.stdout
    assert "FAILED quality.credit-v1.roc_auc: roc_auc = 0.5000 [0.5000, 0.5000] on 'credit-v1' (1114 rows), below its floor 0.8000" in result.stdout


def test_a_crashing_team_test_is_an_error_in_the_verdict(project: Path) -> None:
    suite = project / "suites/unit"
    suite.mkdir(parents=True)
    (suite / "test_broken.py").write_text("import no_such_module\n")
    data = yaml.safe_load((project / "harness.yaml").read_text())
    data["profiles"]["pr"]["tests"] = ["suites/unit"]
    (project / "harness.yaml").write_text(yaml.safe_dump(data))
    result = harness(project, "check", "--profile", "pr")
    assert result.returncode == 1
    assert "ERROR  suites.unit.test_broken" in result.stdout


def test_a_malformed_config_stops_before_anything_runs(project: Path) -> None:
    config = project / "harness.yaml"
    config.write_text(config.read_text().replace("threshold: 0.5", "threshold: half"))
    result = harness(project, "check", "--profile", "pr")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"harness: error: {config}: invalid configuration")
    assert "key 'model.threshold'" in result.stderr
    assert not (project / "reports").exists()


def test_a_missing_model_artifact_stops_with_what_to_do(project: Path) -> None:
    write_config(project, model={"artifact": "artifacts/none"},
                 profiles={"pr": {"checks": ["quality"]}})
    result = in_process(project / "harness.yaml", "check", "--profile", "pr", cwd=project)
    assert result.returncode == 2
    assert "key 'model.artifact'" in result.stderr
    assert "does not exist; train or download the model first" in result.stderr


def test_a_rerun_replaces_the_previous_reports(
        checked: tuple[Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(checked[0], project)  # as the first run left it
    stale = project / "reports/pr/junit/stale.xml"
    stale.write_text("<testsuite/>")
    harness(project, "check", "--profile", "pr")
    assert not stale.exists()


def test_verdict_without_testcases_is_a_failure(tmp_path: Path) -> None:
    junit = tmp_path / "empty.xml"
    junit.write_text('<testsuites><testsuite name="x" tests="0"/></testsuites>')
    verdict = decide([junit])
    assert not verdict.passed and "no testcase ran" in verdict.problems[0]


def test_verdict_on_an_unreadable_report_is_a_failure(tmp_path: Path) -> None:
    junit = tmp_path / "broken.xml"
    junit.write_text("<testsuites><testsuite")
    verdict = decide([junit])
    assert not verdict.passed and "cannot read JUnit report" in verdict.problems[0]


@pytest.mark.end_to_end
def test_reference_project_pr_profile_end_to_end(tmp_path: Path, model_artifact: Path) -> None:
    """The shipped harness.yaml, unchanged but for where the model and reports live."""
    root = EXAMPLE
    data = yaml.safe_load((root / "harness.yaml").read_text())
    data["model"]["artifact"] = str(model_artifact)
    config = root / f".harness-test-{tmp_path.name}.yaml"
    config.write_text(yaml.safe_dump(data))
    try:
        result = harness(root, "--config", str(config), "check", "--profile", "pr",
                         "--reports", str(tmp_path / "reports"))
    finally:
        config.unlink()
    assert result.returncode == 0, result.stdout + result.stderr
    suites = {c.suite for c in decide([tmp_path / "reports/pr/junit/checks.xml"]).cases}
    assert suites == {"unit", "schema", "quality"}


def test_output_to_a_closed_reader_ends_quietly(
        checked: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    """`harness history | head -1`: the reader is gone before the harness writes (its end of
    the pipe is closed first), so every write fails with EPIPE; no traceback, exit 141."""
    project = checked[0]  # a run is in its history
    read, write = os.pipe()
    os.close(read)
    try:
        result = subprocess.run([sys.executable, "-m", "harness", "history"], cwd=project,
                                stdout=write, stderr=subprocess.PIPE, text=True, timeout=60,
                                check=False)
    finally:
        os.close(write)
    assert result.stderr == ""
    assert result.returncode == 141
