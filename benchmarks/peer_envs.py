"""Virtualenvs of their own for the peers whose pins conflict with the harness's, built once
on first use and cached, as deepchecks' is (harness/gates/deepchecks_env.py).

evidently 0.7 imports a pandas function that pandas 3 removed, and the harness runs on
pandas 3, so evidently cannot be installed beside it. Its folder is
``$HARNESS_CACHE_DIR/peers/<name>-py<X.Y>-<key>`` (the cache root as deepchecks'), where
``<key>`` digests the pins; it is trusted only once its marker exists, written last.

    .venv/bin/python benchmarks/peer_envs.py evidently     # build it ahead of time
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness.gates.deepchecks_env import cache_root

MARKER = "peer-ready.json"
INSTALL_TIMEOUT_S = 1800.0


def pins(name: str) -> tuple[str, ...]:
    """What the peer's environment installs. scikit-learn is pinned to the harness's own
    version: the peer unpickles the same fitted model."""
    sklearn = f"scikit-learn=={importlib.metadata.version('scikit-learn')}"
    known = {"evidently": ("evidently==0.7.23", "pandas<3", sklearn)}
    if name not in known:
        raise KeyError(f"no environment is known for peer '{name}' (known: {', '.join(known)})")
    return known[name]


def folder(name: str) -> Path:
    version = "{}.{}".format(*sys.version_info[:2])
    key = hashlib.sha256(json.dumps([version, *pins(name)]).encode()).hexdigest()[:12]
    return cache_root() / "peers" / f"{name}-py{version}-{key}"


def python(name: str, announce: bool = True) -> Path:
    """The interpreter of the peer's environment, built first if there is none complete."""
    where = folder(name)
    if (where / MARKER).is_file():
        return where / "bin" / "python"
    where.parent.mkdir(parents=True, exist_ok=True)
    with (where.parent / f"{where.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two runs racing build it once
        if not (where / MARKER).is_file():
            if announce:
                print(f"building {name}'s environment in {where} (once; a few minutes)",
                      flush=True)
            _build(where, pins(name))
    return where / "bin" / "python"


def _build(where: Path, wanted: tuple[str, ...]) -> None:
    started = time.monotonic()
    shutil.rmtree(where, ignore_errors=True)  # what a build that died left
    steps = [[sys.executable, "-m", "venv", str(where)],
             [str(where / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-input",
              "--disable-pip-version-check", *wanted]]
    try:
        for step in steps:
            done = subprocess.run(step, capture_output=True, text=True, check=False,
                                  timeout=INSTALL_TIMEOUT_S)
            if done.returncode != 0:
                tail = "\n".join((done.stderr or done.stdout).splitlines()[-8:])
                raise RuntimeError(f"building {where} failed at `{' '.join(step)}`:\n{tail}")
    except BaseException:
        shutil.rmtree(where, ignore_errors=True)
        raise
    (where / MARKER).write_text(json.dumps({"pins": list(wanted),
                                            "seconds": round(time.monotonic() - started)}))


if __name__ == "__main__":
    for peer in sys.argv[1:] or ["evidently"]:
        print(python(peer))
