"""nginx for the router's tests: whether nginx accepts a configuration, a router on a
port of its own that is always stopped, and one credit application to send through it."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.deploy.router import CONF, NginxRouter
from tests.support.service_process import free_port

APPLICATION = {"Seniority": 9, "Home": "rent", "Time": 60, "Age": 30, "Marital": "married",
               "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129.0,
               "Assets": 0.0, "Debt": 0.0, "Amount": 800, "Price": 846}


def nginx_test(folder: Path, text: str) -> subprocess.CompletedProcess[str]:
    """``nginx -t`` on ``text`` written as ``folder``'s configuration."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / "tmp" / name).mkdir(parents=True, exist_ok=True)
    (folder / CONF).write_text(text)
    return subprocess.run(["nginx", "-p", str(folder), "-c", CONF, "-e",
                           str(folder / "error.log"), "-t"], capture_output=True, text=True,
                          check=False)


@contextmanager
def stopped_router(folder: Path) -> Iterator[NginxRouter]:
    """A production router in ``folder`` on a free port; stopped afterwards, and its master
    killed if the stop left it (a failed test must not leave nginx on the port)."""
    router = NginxRouter("production", folder, "127.0.0.1", free_port())
    try:
        yield router
    finally:
        router.stop()
        master = router.pid()
        if master:
            os.kill(master, signal.SIGKILL)
