"""Spawn a service as a process, wait for it to be ready, stop it: bounded in time.

Small functions that anything starting a model service on loopback (deploy
targets, load tests) can share. Every wait has a deadline; nothing blocks
forever.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

POLL_S = 0.1
# What any process needs to run as the user expects (find programs, a home, a locale, a
# temporary folder); nothing that changes what a service does.
BASE_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR")


def clean_env(declared: Mapping[str, str],
              source: Mapping[str, str] | None = None) -> dict[str, str]:
    """A service's environment: the base (``BASE_ENV`` and ``LC_*``) taken from ``source``
    (the caller's environment by default), then ``declared`` over it. Nothing else of the
    caller's leaks in (no ``HARNESS_*``, no fault injection)."""
    source = os.environ if source is None else source
    env = {name: value for name, value in source.items()
           if name in BASE_ENV or name.startswith("LC_")}
    env.update(declared)
    return env


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on ``host:port`` (so a service can bind it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_port_free(host: str, port: int, timeout_s: float = 5.0) -> bool:
    """True once ``host:port`` is free; a process that just died may hold it a moment longer."""
    deadline = time.monotonic() + timeout_s
    while not port_is_free(host, port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)
    return True


def spawn_detached(
    command: Sequence[str],
    log_file: Path,
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Start ``command`` in its own session, output appended to ``log_file``; return its pid.

    The process outlives the Python process that started it (a `harness deploy`
    returns while the service keeps serving).
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return process.pid


def pid_alive(pid: int) -> bool:
    """True while process ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A child we spawned and never reaped stays a zombie: it is dead for our purposes.
    try:
        reaped, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        reaped = 0
    if reaped:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def stop_process(pid: int, timeout_s: float = 10.0) -> None:
    """Terminate ``pid`` and its session: SIGTERM, then SIGKILL after ``timeout_s``."""
    for sig, wait_s in ((signal.SIGTERM, timeout_s), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(POLL_S)


def probe(url: str, timeout_s: float = 1.0) -> bool:
    """True when ``url`` answers 200 within ``timeout_s``."""
    import httpx  # here, as in wait_ready: `harness status` imports this module to ask no one

    try:
        return httpx.get(url, timeout=timeout_s).status_code == 200
    except httpx.HTTPError:
        return False


def wait_ready(url: str, timeout_s: float, pid: int | None = None) -> str | None:
    """Poll ``url`` until it answers 200; return None when ready, else why not.

    Gives up early when process ``pid`` exits, since it will never be ready.
    """
    import httpx

    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while True:
        if pid is not None and not pid_alive(pid):
            return f"the process (pid {pid}) exited before it was ready"
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == 200:
                return None
            last = f"{response.status_code} {response.text[:500]}"
        except httpx.HTTPError as exc:
            last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if time.monotonic() >= deadline:
            return f"not ready after {timeout_s:g}s (last answer: {last})"
        time.sleep(POLL_S)


def log_tail(log_file: Path, lines: int = 5) -> str:
    """The last ``lines`` lines of a log file, or '' when it cannot be read."""
    try:
        return "\n".join(log_file.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""
