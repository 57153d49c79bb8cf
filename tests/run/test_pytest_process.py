"""The pytest process of ``harness check`` (harness/run/pytest_process.py): it alone
imports the team's model, and a refusal it makes is raised by the engine as preflight's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import PreflightError
from harness.run.engine import run_check
from tests.support.project import edit_config


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
