"""Whether a team's locustfile imports, asked in a process of its own.

Locust monkey-patches with gevent on import, so the harness never imports a locustfile
itself; a child process imports it as ``locust -f`` would (Locust first, the file's
folder importable, from the config's folder). A file that raises there would make every
Locust process of the run fail, after a whole run's start-up, once per testcase.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from harness.text import clip

IMPORT_TIMEOUT_S = 60.0
_RAISED = 3
_PROBE = """
import importlib.util, os, sys, traceback
import locust
path = os.path.abspath(sys.argv[1])
sys.path.insert(0, os.path.dirname(path))
spec = importlib.util.spec_from_file_location(os.path.splitext(os.path.basename(path))[0], path)
module = importlib.util.module_from_spec(spec)
try:
    spec.loader.exec_module(module)
except BaseException as exc:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == path]
    line = f" at line {frames[-1].lineno}" if frames else ""
    print(f"{type(exc).__name__}: {exc}{line}")
    sys.exit(__RAISED__)
""".replace("__RAISED__", str(_RAISED))


def import_problem(path: Path, cwd: Path, env: Mapping[str, str],
                   timeout_s: float = IMPORT_TIMEOUT_S) -> str | None:
    """None when the locustfile at ``path`` imports; otherwise what it raised."""
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(path)], cwd=cwd,
                              env=dict(env), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        return f"{path} did not finish importing within {timeout_s:g}s"
    if done.returncode == 0:
        return None
    said = (done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or
            [f"exit {done.returncode}"])[-1]
    if done.returncode == _RAISED:
        return f"{path} raised {clip(said, 500)} when imported as Locust imports it"
    return f"{path} could not be imported ({clip(said, 500)})"
