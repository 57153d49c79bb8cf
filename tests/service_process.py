"""Run the reference service as a real process on a free loopback port, with optional faults.

Small on purpose: the deploy targets (``harness/deploy/``) may replace it later.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_service(artifact: Path, latency_ms: float = 0, error_rate: float = 0,
                    ready_within_s: float = 30) -> Iterator[str]:
    """Start the service, wait until /ready answers 200, yield its URL, stop it after.

    ``latency_ms`` and ``error_rate`` set the service's fault injection on predictions."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "SERVICE_INJECT_LATENCY_MS": str(latency_ms),
           "SERVICE_INJECT_ERROR_RATE": str(error_rate)}
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "--artifact", str(artifact),
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_within_s
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"service exited with {process.returncode}")
            try:
                if httpx.get(f"{url}/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"service did not become ready within {ready_within_s:g}s")
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
