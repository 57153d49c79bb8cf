"""``harness load worker``: one Locust worker on this host for a master on another, so load
grows past one machine through the same master/worker code path as a local run.

The worker runs the same locustfile and writes the same scenario from the same config as
the master's local workers; the master sends it the target and the users to start, and
tells it to stop. The run is bounded: a worker whose master never comes, or never says
stop, is ended.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

from harness.config import HarnessConfig
from harness.errors import ConfigError, LoadTestError
from harness.loadtest import (
    _GRACE_S,
    _STARTUP_S,
    SCENARIO_ENV,
    _spawn,
    _stop,
    locustfile_path,
    worker_command,
    write_scenario,
)

_MASTER = re.compile(r"^(?P<host>[^\s:;]+):(?P<port>\d{1,5})$")


def parse_master(text: str) -> tuple[str, int]:
    """``HOST:PORT`` of the master, checked."""
    match = _MASTER.match(text)
    if match is None or not 0 < int(match["port"]) < 65536:
        raise ConfigError(f"--master '{text}' is not HOST:PORT (the master's load.master_bind)")
    return match["host"], int(match["port"])


def run_worker(config: HarnessConfig, master: str, out_dir: Path,
               source: str | None = None, wait_s: float = 60.0) -> int:
    """Run one worker until the master ends the run; Locust's exit code. ``source`` is the
    local address its connection to the master leaves from (a host with several)."""
    host, port = parse_master(master)
    locustfile = locustfile_path(config)
    if not locustfile.is_file():
        raise ConfigError(f"{config.source}: key 'load.locustfile': no such file: {locustfile}")
    out_dir.mkdir(parents=True, exist_ok=True)
    scenario = out_dir / "scenario.json"
    # The same total as the master's, so each worker stops at its share of max_requests.
    write_scenario(config, scenario, config.load.worker_count() + config.load.remote_workers)
    # ZeroMQ's "source;destination" endpoint: the connection leaves from ``source``.
    master_host = f"{source}:0;{host}" if source else host
    command = worker_command(locustfile, master_host, port)
    bound_s = wait_s + _STARTUP_S + config.load.run_time_s + _GRACE_S
    log = out_dir / "locust-worker.log"
    process = _spawn(command, {**os.environ, SCENARIO_ENV: str(scenario)}, log, config.root)
    started = time.monotonic()
    try:
        code = process.wait(timeout=bound_s)
    except subprocess.TimeoutExpired:
        raise LoadTestError(
            f"the Locust worker for master {master} did not finish within {bound_s:.0f}s "
            f"(no master, or a run that never ended) and was stopped; see {log}") from None
    finally:
        _stop(process)
    if code != 0:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise LoadTestError(f"the Locust worker for master {master} exited {code} after "
                            f"{time.monotonic() - started:.0f}s: {tail or '(empty log)'}")
    return code
