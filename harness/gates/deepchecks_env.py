"""deepchecks' own virtualenv: created once per pin set and Python version, cached, and
trusted only once complete; and the one way to run deepchecks' side in it.

deepchecks 0.19.1 imports only with numpy < 2, pandas < 3, scikit-learn 1.6/1.7 and
setuptools < 81, which the harness's own environment does not have (DESIGN.md), so it runs
in a virtualenv of its own, in its own process: ``harness/gates/deepchecks_assets/runner.py``.

The virtualenv lives in ``$HARNESS_CACHE_DIR/deepchecks/py<X.Y>-<key>`` (the cache root
defaults to ``$XDG_CACHE_HOME/harness``, else ``~/.cache/harness``); ``<key>`` digests the
pins and the Python version, so a new pin set gets a new folder and an old one stays valid
until removed. Creation holds a lock beside the folder (two processes racing build it once),
and the folder is trusted only when its marker exists: the marker is written last, after
deepchecks has imported in it and listed its suites' checks, which are kept beside it so a
pytest session lists them without starting an interpreter.

Standard library only: ``harness check`` and the pytest plugin import it at start.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from harness.clock import utc_now
from harness.errors import DeepchecksEnvError, DeepchecksRunError

PINS: tuple[str, ...] = (
    "deepchecks==0.19.1",
    "numpy<2",
    "pandas<3",
    # 1.8 removed a scorer deepchecks needs.
    "scikit-learn>=1.6,<1.8",
    # deepchecks imports pkg_resources, which setuptools 81 removed.
    "setuptools<81",
)
CACHE_ENV = "HARNESS_CACHE_DIR"
MARKER = "harness-ready.json"
CHECKS = "harness-checks.json"
RUNNER = Path(__file__).parent / "deepchecks_assets" / "runner.py"
# pip downloads about 150 MB once; generous for a slow mirror, bounded for a hung one.
INSTALL_TIMEOUT_S = 1800.0
_LIST_TIMEOUT_S = 300.0
_TAIL_LINES = 8
# deepchecks asks its server for the latest version on import (and sends an anonymous id)
# unless these are set; the harness runs offline.
_OFFLINE = {"DISABLE_DEEPCHECKS_ANONYMOUS_TELEMETRY": "True",
            "DISABLE_LATEST_VERSION_CHECK": "True"}


@dataclass(frozen=True)
class CheckInfo:
    """One check of a deepchecks default suite: its index in the suite and its name."""

    index: int
    name: str


@dataclass(frozen=True)
class DeepchecksEnv:
    """A complete deepchecks virtualenv."""

    folder: Path
    created: bool = False

    @property
    def python(self) -> Path:
        return self.folder / "bin" / "python"

    def marker(self) -> dict[str, object]:
        """What was recorded when the environment was completed (pins, Python, when)."""
        return json.loads((self.folder / MARKER).read_text(encoding="utf-8"))

    def checks(self) -> dict[str, list[CheckInfo]]:
        """The checks of each of deepchecks' default tabular suites, in suite order, as
        listed when the environment was created (listed again if that file is gone)."""
        listing = self.folder / CHECKS
        try:
            data = json.loads(listing.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run_runner(self, ["list", str(listing)], _LIST_TIMEOUT_S, "listing its checks")
            data = json.loads(listing.read_text(encoding="utf-8"))
        return {suite: [CheckInfo(c["index"], c["name"]) for c in checks]
                for suite, checks in data["suites"].items()}


def cache_root() -> Path:
    """Where the harness caches what it builds: ``$HARNESS_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/harness``, else ``~/.cache/harness``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache").expanduser().resolve() / "harness"


def _python_version() -> str:
    return "{}.{}".format(*sys.version_info[:2])


def cache_key(pins: tuple[str, ...] = PINS) -> str:
    """The pins and the Python version (its minor version: the ABI), digested."""
    identity = json.dumps({"pins": list(pins), "python": _python_version()})
    return hashlib.sha256(identity.encode()).hexdigest()[:12]


def env_folder(pins: tuple[str, ...] = PINS) -> Path:
    """The folder of the virtualenv for ``pins`` under the cache root."""
    return cache_root() / "deepchecks" / f"py{_python_version()}-{cache_key(pins)}"


def _complete(folder: Path, pins: tuple[str, ...]) -> bool:
    try:
        marker = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (marker.get("pins") == list(pins) and marker.get("python") == _python_version()
            and (folder / "bin" / "python").exists())


def ensure(pins: tuple[str, ...] = PINS,
           announce: Callable[[str], None] | None = None) -> DeepchecksEnv:
    """The complete virtualenv for ``pins``, created first if there is none; ``announce``
    gets one line before a creation starts (and one if another process is creating it)."""
    folder = env_folder(pins)
    if _complete(folder, pins):
        return DeepchecksEnv(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _locked(folder.parent / f"{folder.name}.lock", folder, announce):
        if _complete(folder, pins):  # another process finished it while this one waited
            return DeepchecksEnv(folder)
        if announce is not None:
            announce(f"harness: creating deepchecks' environment in {folder} "
                     "(once per pin set; about a minute)")
        _create(folder, pins)
    return DeepchecksEnv(folder, created=True)


@contextmanager
def _locked(path: Path, folder: Path, announce: Callable[[str], None] | None) -> Iterator[None]:
    """An exclusive lock on ``path``, released when the process ends, however it ends."""
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if announce is not None:
                announce(f"harness: waiting for another process creating {folder}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _create(folder: Path, pins: tuple[str, ...]) -> None:
    """Build the virtualenv in place (under the lock); a folder left unmarked by a build
    that died is removed first, and this one is removed if it fails."""
    started = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)
    python = folder / "bin" / "python"
    steps = [
        [sys.executable, "-m", "venv", str(folder)],
        [str(python), "-E", "-m", "pip", "install", "--quiet", "--no-input",
         "--disable-pip-version-check", *pins],
    ]
    try:
        for command in steps:
            _install_step(command, folder, pins)
        env = DeepchecksEnv(folder)
        run_runner(env, ["list", str(folder / CHECKS)], _LIST_TIMEOUT_S,
                   "importing deepchecks in its new environment")
        version = json.loads((folder / CHECKS).read_text(encoding="utf-8"))["deepchecks"]
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    mark_complete(folder, pins, version, time.monotonic() - started)


def mark_complete(folder: Path, pins: tuple[str, ...], deepchecks: str, seconds: float) -> None:
    """Write the marker that makes ``folder`` trusted: the last step of a creation."""
    marker = {"pins": list(pins), "python": _python_version(), "deepchecks": deepchecks,
              "created": utc_now(),
              "seconds": round(seconds, 1)}
    partial = folder / f".{MARKER}.partial"
    partial.write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
    partial.replace(folder / MARKER)  # atomic: a reader sees no marker or a whole one


def _install_step(command: list[str], folder: Path, pins: tuple[str, ...]) -> None:
    shown = shlex.join(command)
    try:
        done = subprocess.run(command, capture_output=True, text=True,
                              timeout=INSTALL_TIMEOUT_S, env=_clean_env(), check=False)
    except subprocess.TimeoutExpired:
        raise DeepchecksEnvError(
            f"creating deepchecks' environment in {folder}: `{shown}` did not finish in "
            f"{INSTALL_TIMEOUT_S:.0f} s. {_by_hand(pins)}"
        ) from None
    if done.returncode != 0:
        raise DeepchecksEnvError(
            f"creating deepchecks' environment in {folder}: `{shown}` failed "
            f"(exit {done.returncode}):\n{_tail(done.stderr or done.stdout)}\n{_by_hand(pins)}"
        )


def _by_hand(pins: tuple[str, ...]) -> str:
    return ("pip needs PyPI, or your mirror as PIP_INDEX_URL, once; create the environment "
            "ahead of time with `harness deepchecks install` where it is reachable (e.g. a "
            f"Jenkins Install stage; ${CACHE_ENV} chooses the cache folder). It installs "
            f"{shlex.join(pins)} into a virtualenv of its own.")


def _clean_env() -> dict[str, str]:
    """The environment for deepchecks' processes: nothing of the harness's own Python
    (its path, its home) leaks into the other virtualenv, and deepchecks stays offline."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, **_OFFLINE}


def _tail(text: str) -> str:
    # deepchecks draws progress bars with carriage returns: each redraw is its own line.
    lines = [line.rstrip() for line in text.replace("\r", "\n").splitlines() if line.strip()]
    return "\n".join(f"  | {line[:300]}" for line in lines[-_TAIL_LINES:]) or "  | (no output)"


def run_runner(env: DeepchecksEnv, args: list[str], timeout_s: float, doing: str,
               log: Path | None = None) -> None:
    """Run deepchecks' side (``runner.py``) in ``env``; its output goes to ``log`` (or is
    kept in memory), and a crash or an overrun is one ``DeepchecksRunError`` with its tail.
    ``-E -s``: no ``PYTHON*`` variable or user site-packages of this process reaches it."""
    command = [str(env.python), "-E", "-s", str(RUNNER), *args]
    out: TextIO | None = log.open("w+", encoding="utf-8", errors="replace") if log else None
    try:
        try:
            done = subprocess.run(command, stdout=out or subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, timeout=timeout_s,
                                  env=_clean_env(), check=False)
        except FileNotFoundError:
            raise DeepchecksRunError(
                f"deepchecks' environment {env.folder} has no Python ({env.python}); "
                f"remove the folder and run `harness deepchecks install`") from None
        except subprocess.TimeoutExpired:
            raise DeepchecksRunError(
                f"deepchecks did not finish {doing} within {timeout_s:g} s "
                "(deepchecks.timeout_s); raise it, or leave slow checks out with "
                "deepchecks.exclude") from None
        if done.returncode != 0:
            output = done.stdout if out is None else _read(out)
            raise DeepchecksRunError(
                f"deepchecks failed {doing} (exit {done.returncode}) in {env.folder}; "
                f"the end of its output:\n{_tail(output)}\nIf the environment is broken, "
                "remove that folder and run `harness deepchecks install`"
            )
    finally:
        if out is not None:
            out.close()


def _read(handle: TextIO) -> str:
    handle.seek(0)
    return handle.read()


def install(announce: Callable[[str], None] | None = None) -> str:
    """``harness deepchecks install``: the environment, created if missing; one line."""
    env = ensure(announce=announce)
    marker = env.marker()
    how = (f"created in {marker['seconds']} s" if env.created
           else f"ready since {marker['created']}")
    return f"deepchecks {marker['deepchecks']}: {env.folder} ({how})"
