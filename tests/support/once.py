"""A session fixture's value made once for the whole run, also when xdist runs the session
on several workers: the first worker to ask makes it under a file lock in the folder the
workers' temporary roots share, and the others read what it made (a pickle) instead of
making it again. Only for values the tests read and never change."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[], T]) -> T:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return make()
    shared = tmp_path_factory.getbasetemp().parent
    made = shared / f"{name}.pickle"
    with (shared / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if made.exists():
            return pickle.loads(made.read_bytes())
        value = make()
        made.write_bytes(pickle.dumps(value))
        return value
