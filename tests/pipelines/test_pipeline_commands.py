"""Every `harness` command the Jenkinsfiles and the jobs run exists and accepts the
arguments it is given: each is parsed by the real CLI parser (nothing is executed)."""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

import pytest

from harness.cli import build_parser
from tests.support.pipelines import (
    ROOT,
    all_harness_invocations,
    harness_commands,
    make_recipes,
    render_jobs,
)


def _invocations() -> list[tuple[str, list[str]]]:
    # Collected before the tests run (they are parametrized by it): render into a
    # temporary folder of its own.
    with tempfile.TemporaryDirectory(prefix="jobs-") as out:
        return all_harness_invocations(render_jobs(ROOT / "jobs", Path(out)))


INVOCATIONS = _invocations()


def parse_error(argv: list[str]) -> str | None:
    """What the harness parser says about ``argv``, or None when it accepts it."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            build_parser().parse_args(argv)
    except SystemExit as exc:
        return stderr.getvalue().strip() or f"exit {exc.code}"
    return None


def test_the_pipelines_run_harness_commands() -> None:
    subcommands = {argv[argv.index("--config") + 2] if "--config" in argv else argv[0]
                   for _, argv in INVOCATIONS}
    assert {"check", "publish", "deploy", "status", "promote"} <= subcommands


@pytest.mark.parametrize(("where", "argv"), INVOCATIONS,
                         ids=[" ".join(argv) for _, argv in INVOCATIONS])
def test_harness_command_exists_and_accepts_its_arguments(where: str, argv: list[str]) -> None:
    error = parse_error(argv)
    assert error is None, f"{where}: harness {' '.join(argv)}\n{error}"


def test_the_check_catches_a_wrong_flag_and_an_unknown_command() -> None:
    [wrong_flag] = harness_commands(
        '.venv/bin/harness --config "$HARNESS_CONFIG" check --profile pr --output reports')
    assert "unrecognized arguments: --output reports" in parse_error(wrong_flag)
    [unknown] = harness_commands("harness deploi --env staging")
    assert "invalid choice: 'deploi'" in parse_error(unknown)


def test_commands_are_found_in_shell_and_make_recipes() -> None:
    assert harness_commands("make install && .venv/bin/harness status --env $APPROVER") == [
        ["status", "--env", "alice"]]
    with pytest.raises(AssertionError, match=r"no sample value for \$UNKNOWN"):
        harness_commands("harness check --profile $UNKNOWN")
    # `make check` (the README's main command) runs harness through the Makefile.
    assert any("bin/harness check --profile pr" in line for line in make_recipes(["check"]))
    with pytest.raises(AssertionError, match="make target 'nope'"):
        make_recipes(["nope"])
