"""Run the generic model server on the reference project as a real process on a free
loopback port, with optional faults.

Small on purpose: the deploy targets (``harness/deploy/``) may replace it later.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.processes import wait_ready

CREDIT_CONFIG = Path(__file__).resolve().parents[2] / "examples" / "credit" / "harness.yaml"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_service(artifact: Path, latency_ms: float = 0, error_rate: float = 0,
                    ready_within_s: float = 30, config: Path = CREDIT_CONFIG,
                    max_body_bytes: int | None = None) -> Iterator[str]:
    """Start the service, wait until /ready answers 200, yield its URL, stop it after.

    ``latency_ms`` and ``error_rate`` set the service's fault injection on predictions;
    ``max_body_bytes`` its request-size limit (default: the server's)."""
    port = free_port()
    env = {**os.environ,
           "HARNESS_INJECT_LATENCY_MS": str(latency_ms),
           "HARNESS_INJECT_ERROR_RATE": str(error_rate)}
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "--config", str(config), "serve",
         "--artifact", str(artifact), "--host", "127.0.0.1", "--port", str(port),
         *(["--max-body-bytes", str(max_body_bytes)] if max_body_bytes else [])],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_ready(f"{url}/ready", ready_within_s, process.pid)
        if problem is not None:
            raise RuntimeError(f"the service did not start: {problem}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
