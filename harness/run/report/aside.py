"""One drawing done in a forked process while the caller draws the rest.

After pytest, the report is the run's last work and the engine's only process: one core
of two idles while matplotlib lays out the quality trends, the slowest picture (ticks and
text of a panel per metric). A forked child already holds matplotlib and the report's
content, so it starts in milliseconds; what it draws is pickled back, and an error it
raises is raised by ``result``, as if drawn here. Only a process with no other thread is
forked (a lock another thread held would stay held in the child: the engine has stopped
its report thread by then); otherwise, where processes cannot be forked, or on one core,
``result`` draws in this process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


@contextmanager
def aside(draw: Callable[..., T], *args: Any) -> Iterator[Callable[[], T]]:
    """Start ``draw(*args)`` (a module-level function, its arguments picklable) in a forked
    process; yields ``result``, which waits for it. Leaving the block waits for the child."""
    if ("fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2
            or threading.active_count() > 1):
        yield lambda: draw(*args)
        return
    # Forked before the pool starts its own thread (it launches fork workers eagerly).
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool.submit(draw, *args).result
