"""End a finished process without the interpreter's teardown.

Once a command's work is done, a normal exit still frees every module and object the
process loaded, one by one. For ``harness check`` (pandas, scikit-learn, matplotlib,
SQLAlchemy imported) and for its pytest process that teardown cost 0.3-0.7 s of CPU each,
on the run's critical path, for nothing anyone outside the process can see
(docs/performance.md). ``exit_now`` does, in the interpreter's order, what an exit does
that can be seen outside: it runs the ``atexit`` handlers (logging's flush, pytest's lock
removal, multiprocessing's joins) and flushes standard output and error; then it ends the
process with ``os._exit``, as multiprocessing ends its own children. Standard library
only: the pytest process imports it.
"""

from __future__ import annotations

import atexit
import os
import sys
import threading
from typing import NoReturn

# What Python exits with when its final flush of standard output fails (a closed reader).
_FLUSH_FAILED = 120


def exit_now(code: int) -> NoReturn:
    """End this process with ``code``, as ``sys.exit(code)`` would, less the teardown. A
    process with a thread still running that is not a daemon exits as usual: the
    interpreter tells executors' threads to end before it waits for them."""
    if any(t is not threading.main_thread() and not t.daemon for t in threading.enumerate()):
        sys.exit(code)
    # CPython's own entry to its exit handlers (also PyPy's); they run once, last first.
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            if stream is sys.stdout and code == 0:
                code = _FLUSH_FAILED
    os._exit(code)
