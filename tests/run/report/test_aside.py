"""A drawing done aside (harness/run/report/aside.py): in a forked process when this one
has no other thread, in this one otherwise, with the same result or the same error."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest

from harness.run.report.aside import aside

# Run in a process of its own: pytest's process may have threads (xdist's workers do).
FORKED = """
import os
from harness.run.report.aside import aside

with aside(os.getpid) as drawn:
    print(drawn() != os.getpid())
with aside(int, "not a number") as failed:
    try:
        failed()
    except ValueError as exc:
        print("raised:", exc)
"""


def test_a_single_threaded_process_draws_aside_in_a_forked_child() -> None:
    result = subprocess.run([sys.executable, "-c", FORKED], capture_output=True, text=True,
                            timeout=120, check=True)
    assert result.stdout.splitlines() == [
        "True", "raised: invalid literal for int() with base 10: 'not a number'"]


def test_a_process_with_another_thread_draws_in_itself() -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with aside(os.getpid) as drawn:
            assert drawn() == os.getpid()
        with aside(int, "x") as failed, pytest.raises(ValueError):
            failed()
    finally:
        stop.set()
        other.join()
