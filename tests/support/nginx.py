"""nginx for the router's tests: whether nginx accepts a configuration, and one credit
application to send through it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from harness.deploy.router import CONF

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
