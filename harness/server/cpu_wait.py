"""How long the calling thread has waited for a CPU: the scheduler's own count.

Linux keeps, per thread, the time it was runnable but not running (the second field of
``/proc/thread-self/schedstat``, in nanoseconds). Over a request, that is the part of its
latency the host took (other processes on the cores, a lower niceness) rather than the
server's own work or its sleeps. A shadow on a shared machine waits more than production
does, so the shadow's judge compares latencies net of it (harness/release/shadow_judge.py).

A request served partly in a worker thread (scored there, or sleeping there for injected
latency) waits there: ``counting`` wraps the worker's work and adds its wait to the
request's ``Tally``, which the request's context carries. Its wait is then its workers'
alone: the event loop serves other requests meanwhile, and their waits are not this one's.

Each thread keeps its file open: a read is then one ``pread`` (a few microseconds), cheap
enough for every request. Where the file does not exist (not Linux, schedstats off), the
clock answers None and the log leaves the field out.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

SCHEDSTAT = "/proc/thread-self/schedstat"

_local = threading.local()


def _descriptor() -> int | None:
    fd = getattr(_local, "fd", False)
    if fd is False:
        try:
            fd = os.open(SCHEDSTAT, os.O_RDONLY)
        except OSError:
            fd = None
        _local.fd = fd
    return fd


def waited_ms() -> float | None:
    """The calling thread's total wait for a CPU since it started, in milliseconds; None
    where the platform does not say. Only differences of two readings mean anything."""
    fd = _descriptor()
    if fd is None:
        return None
    try:
        return int(os.pread(fd, 128, 0).split()[1]) / 1e6
    except (OSError, IndexError, ValueError):
        return None


class Tally:
    """The waits of a request's worker threads, added up while it is served."""

    __slots__ = ("counted", "ms")

    def __init__(self) -> None:
        self.ms = 0.0
        self.counted = False  # a worker thread served (part of) the request


# The serving request's tally: the worker thread sees it through the context it was given.
current: ContextVar[Tally | None] = ContextVar("harness_cpu_wait", default=None)


def counting(work: Callable[P, T]) -> Callable[P, T]:
    """``work``, adding its thread's wait for a CPU to the current request's tally."""

    @wraps(work)
    def counted(*args: P.args, **kwargs: P.kwargs) -> T:
        tally, before = current.get(), waited_ms()
        try:
            return work(*args, **kwargs)
        finally:
            after = waited_ms()
            if tally is not None and before is not None and after is not None:
                tally.ms += after - before
                tally.counted = True

    return counted
