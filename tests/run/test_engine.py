"""The pytest command the engine runs: what it tells the pytest process, which reads
harness.yaml again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from harness.config import load_config
from harness.gates.context import RunContext
from harness.load.worker import distributed
from harness.run.engine import pytest_arguments
from tests.support.project import EXAMPLE


def test_the_command_lines_distribution_reaches_the_pytest_process(tmp_path: Path) -> None:
    config = distributed(load_config(EXAMPLE / "harness.yaml"), 2, "127.0.0.1:5599")
    arguments = pytest_arguments(RunContext.resolve(config, "nightly"), tmp_path / "j.xml")
    assert "--harness-remote-workers=2" in arguments
    assert "--harness-master-bind=127.0.0.1:5599" in arguments
    # The pytest process takes them (an unknown option or a refused value would exit 4).
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *arguments,
         f"--override-ini=cache_dir={tmp_path / 'cache'}"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=300, check=False)
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr[-2000:]
    refused = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", *arguments,
         "--harness-remote-workers=-1"],
        cwd=EXAMPLE, capture_output=True, text=True, timeout=300, check=False)
    assert refused.returncode != 0 and "--remote-workers" in refused.stdout + refused.stderr


def test_a_profile_without_the_load_check_is_told_nothing_of_it(tmp_path: Path) -> None:
    config = load_config(EXAMPLE / "harness.yaml")
    arguments = pytest_arguments(RunContext.resolve(config, "pr"), tmp_path / "j.xml")
    assert not any(a.startswith(("--harness-remote-workers", "--harness-master-bind"))
                   for a in arguments)
