"""A process ended by ``exit_now`` does what a normal exit does that can be seen outside it:
the exit code, the threads it waits for, the atexit handlers, flushed output; only the
interpreter's teardown is skipped. Each case is a real process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path


def _run(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "ends.py"
    script.write_text(textwrap.dedent(body), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=60, check=False)


def test_an_exit_keeps_its_code_its_output_and_its_atexit_handlers(tmp_path: Path) -> None:
    marker = tmp_path / "atexit.txt"
    result = _run(f"""
        import atexit, sys
        from harness.quick_exit import exit_now

        atexit.register(lambda: open({str(marker)!r}, "w").write("ran"))
        sys.stdout.write("buffered, no newline")
        sys.stderr.write("to stderr")

        class Noisy:
            def __del__(self):
                sys.stdout.write(" torn down")
        kept = Noisy()
        exit_now(3)
        """, tmp_path)
    assert result.returncode == 3
    # The output was flushed; the object left for the teardown was not torn down.
    assert (result.stdout, result.stderr) == ("buffered, no newline", "to stderr")
    assert marker.read_text() == "ran"


def test_a_process_with_a_thread_still_working_exits_as_usual(tmp_path: Path) -> None:
    # An executor left open: the interpreter tells its thread to end once its work is done,
    # and waits for it.
    result = _run("""
        import sys, time
        from concurrent.futures import ThreadPoolExecutor
        from harness.quick_exit import exit_now

        pool = ThreadPoolExecutor(1)
        pool.submit(lambda: (time.sleep(0.3), sys.stdout.write("work done\\n")))

        class Noisy:
            def __del__(self):
                sys.stdout.write("torn down\\n")
        kept = Noisy()
        exit_now(4)
        """, tmp_path)
    assert result.returncode == 4
    assert result.stdout == "work done\ntorn down\n"


def test_an_atexit_handler_that_fails_is_reported_and_the_others_still_run(
        tmp_path: Path) -> None:
    result = _run("""
        import atexit
        from harness.quick_exit import exit_now

        atexit.register(lambda: print("first registered, run last"))
        atexit.register(lambda: 1 / 0)
        exit_now(0)
        """, tmp_path)
    assert result.returncode == 0
    assert result.stdout == "first registered, run last\n"
    assert "ZeroDivisionError" in result.stderr


def test_the_harness_command_ends_through_it_with_mains_code(tmp_path: Path) -> None:
    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "harness"]
    assert script.value == "harness.cli:run"
    result = subprocess.run([sys.executable, "-m", "harness", "--config",
                             str(tmp_path / "missing.yaml"), "status"], capture_output=True,
                            text=True, timeout=60, check=False)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (f"harness: error: {tmp_path / 'missing.yaml'}: configuration file "
                             "not found\n")
