"""The CLI as a user runs it: in its own process, or its ``main`` in this one (whose import
costs seconds on a shared host); and a refusal checked as preflight gives it."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.support.project import snapshot


def harness(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=project,
                          capture_output=True, text=True, timeout=300, check=False)


def refused(project: Path, *args: str) -> str:
    """Run ``harness check`` (the pr profile by default), assert it was refused up front
    without a file changing, and return its one message."""
    return _refused(project, lambda: harness(project, *(args or _PR)))


def refused_in_process(project: Path, *args: str) -> str:
    """``refused``, through the CLI's ``main`` in this process: the same assertions without a
    Python start-up, for a refusal whose path one ``refused`` run already proves."""
    return _refused(project, lambda: in_process(project / "harness.yaml", *(args or _PR),
                                                cwd=project))


_PR = ("check", "--profile", "pr")


def _refused(project: Path, run: Callable[[], Result | subprocess.CompletedProcess[str]]) -> str:
    before = snapshot(project)
    result = run()
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("harness: error: ")
    assert result.stderr.count("harness: error:") == 1, "one message"
    assert "Traceback" not in result.stderr
    assert f"{project / 'harness.yaml'}: profile" in result.stderr, "names the config file"
    assert "nothing was run or recorded" in result.stderr
    assert snapshot(project) == before, "reports, golden data, history or deploy state changed"
    assert not (project / "reports").exists() and not (project / ".harness").exists()
    return result.stderr


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def in_process(config_file: Path, *args: str, cwd: Path | None = None) -> Result:
    """``harness --config config_file ARGS`` through the CLI's ``main`` in this process, from
    ``cwd`` if given; the exit code, stdout and stderr are what a shell would see."""
    from harness.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.chdir(cwd or Path.cwd()), contextlib.redirect_stdout(out), \
            contextlib.redirect_stderr(err):
        try:
            code = main(["--config", str(config_file), *args])
        except SystemExit as exc:  # argparse's usage errors exit as they would in a shell
            code = exc.code if isinstance(exc.code, int) else 2
    return Result(code, out.getvalue(), err.getvalue())
