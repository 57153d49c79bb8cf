"""The pytest process of ``harness check`` (harness/run/pytest_process.py): it alone
imports the team's model, and a refusal it makes is raised by the engine as preflight's.
Started before the engine's own refusals, it waits for their go before it records or runs
anything, and a refusal of the engine stops it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from harness.config import load_config
from harness.errors import PreflightError
from harness.gates.context import RunContext
from harness.run.engine import pytest_arguments, run_check
from harness.run.pytest_process import CANCELLED, GO, REFUSED, command, read_refusal
from tests.support.project import GOLDEN, edit_config, rewrite_golden, snapshot


def test_the_engine_never_imports_the_teams_model(project: Path) -> None:
    code = ("import sys; from pathlib import Path; from harness.config import load_config; "
            "from harness.run.engine import run_check; "
            "run = run_check(load_config(Path('harness.yaml')), 'pr', Path('reports')); "
            "print(run.verdict.passed, sorted(m for m in sys.modules "
            "if m.split('.')[0] == 'credit_model'))")
    result = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "True []"
    # The pytest process did: the quality gates scored the golden set with it.
    assert "quality.credit-v1" in (project / "reports/pr/junit/checks.xml").read_text()


def test_its_refusal_is_preflights_with_its_fields_and_leaves_nothing(project: Path) -> None:
    edit_config(project, model={"entrypoint": "credit_model.nosuch:load_model"})
    with pytest.raises(PreflightError) as refused:
        run_check(load_config(project / "harness.yaml"), "pr", project / "reports/nested")
    assert refused.value.key == "model.entrypoint"
    assert refused.value.path == project / "harness.yaml"
    assert refused.value.problems[0][1].startswith(
        "model.entrypoint 'credit_model.nosuch:load_model' cannot be imported")
    assert str(refused.value).startswith(f"{project / 'harness.yaml'}: profile 'pr' cannot "
                                         "run; nothing was run or recorded. Fix this first:")
    assert not (project / "reports").exists() and not (project / ".harness").exists()


def _waiting(project: Path, tmp_path: Path) -> subprocess.Popen[str]:
    """The pytest process as the engine starts it, before its own refusals: waiting."""
    context = RunContext.resolve(load_config(project / "harness.yaml"), "pr")
    junit = tmp_path / "junit.xml"
    return subprocess.Popen(
        command(context, tmp_path / "refusal.pickle", pytest_arguments(context, junit),
                wait=True),
        cwd=project, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True)


def test_a_waiting_process_told_nothing_runs_and_records_nothing(project: Path,
                                                                 tmp_path: Path) -> None:
    before = snapshot(project)
    process = _waiting(project, tmp_path)
    output, _ = process.communicate(timeout=300)  # the engine refused: its input ends
    assert process.returncode == CANCELLED, output
    assert snapshot(project) == before, "no history store, no reports"
    assert not (tmp_path / "junit.xml").exists() and not (tmp_path / "refusal.pickle").exists()


def test_a_waiting_process_told_go_runs_pytest(project: Path, tmp_path: Path) -> None:
    process = _waiting(project, tmp_path)
    output, _ = process.communicate(GO.decode(), timeout=300)
    assert process.returncode == 0, output[-3000:]
    assert "quality.credit-v1" in (tmp_path / "junit.xml").read_text()
    assert (project / ".harness/history.db").is_file()


def test_a_waiting_process_refuses_an_entry_point_without_waiting(project: Path,
                                                                  tmp_path: Path) -> None:
    edit_config(project, model={"entrypoint": "credit_model.nosuch:load_model"})
    process = _waiting(project, tmp_path)
    # Its input stays open: the refusal does not wait for the engine's go.
    assert process.wait(timeout=300) == REFUSED
    refusal = read_refusal(tmp_path / "refusal.pickle")
    assert isinstance(refusal, PreflightError) and refusal.key == "model.entrypoint"
    process.communicate()


def test_a_refusal_of_the_engine_stops_the_waiting_process(project: Path) -> None:
    rewrite_golden(project, pd.read_csv(project / GOLDEN / "credit.csv").head(0))
    me = os.getpid()
    children = Path(f"/proc/{me}/task/{me}/children")
    before = children.read_text().split()  # services other tests on this worker started
    with pytest.raises(PreflightError) as refused:
        run_check(load_config(project / "harness.yaml"), "pr", project / "reports")
    assert refused.value.key == "golden[0].path"
    # The pytest process the engine started before its refusals was stopped and reaped.
    assert children.read_text().split() == before
    assert not (project / "reports").exists() and not (project / ".harness").exists()
