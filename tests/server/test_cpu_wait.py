"""The CPU-wait clock counts the time a thread was runnable but not running: the host's
share of a request's latency, which a shadow's latency judgment leaves out."""

from __future__ import annotations

import contextvars
import os
import subprocess
import sys
import threading
import time

import pytest

from harness.server import cpu_wait
from harness.server.cpu_wait import waited_ms

pytestmark = pytest.mark.skipif(waited_ms() is None, reason="no per-thread schedstat here")

SPIN = "import os, sys\nos.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True: pass\n"


def _in_thread(work) -> float:
    """``work``'s wait for a CPU, measured in a thread of its own (the thread's
    affinity is its own, so the test's other threads keep theirs)."""
    waited: list[float] = []

    def run() -> None:
        before = waited_ms()
        work()
        waited.append(waited_ms() - before)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return waited[0]


def _spin(seconds: float, cpu: int | None = None) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_a_thread_sharing_its_cpu_with_a_busy_process_waits_for_it() -> None:
    cpu = min(os.sched_getaffinity(0))
    busy = subprocess.Popen([sys.executable, "-c", SPIN, str(cpu)])
    try:
        time.sleep(0.2)  # the spinner is running
        waited = _in_thread(lambda: _spin(0.4, cpu))
    finally:
        busy.kill()
        busy.wait()
    # Sharing one CPU fairly, about half the 400 ms is spent waiting for it.
    assert waited > 60, waited


def test_sleeping_is_not_waiting_for_a_cpu() -> None:
    assert _in_thread(lambda: time.sleep(0.3)) < 30


def test_a_worker_threads_wait_is_added_to_the_requests_tally() -> None:
    cpu = min(os.sched_getaffinity(0))
    tally = cpu_wait.Tally()
    token = cpu_wait.current.set(tally)
    busy = subprocess.Popen([sys.executable, "-c", SPIN, str(cpu)])
    try:
        time.sleep(0.2)
        # The worker thread is given the request's context, as the server's threadpool is.
        worker = threading.Thread(target=contextvars.copy_context().run,
                                  args=(cpu_wait.counting(_spin), 0.4, cpu))
        worker.start()
        worker.join()
    finally:
        busy.kill()
        busy.wait()
        cpu_wait.current.reset(token)
    assert tally.ms > 60, tally.ms
