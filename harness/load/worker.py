"""Load past one machine: ``harness load worker`` runs one Locust worker on this host for a
master on another, through the same master/worker code path as a local run; the master's
side is the load check with ``remote_workers`` and ``master_bind`` (``distributed``).

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

from pydantic import ValidationError

from harness.config import HarnessConfig, LoadSpec
from harness.errors import ConfigError, LoadTestError
from harness.load.runner import (
    GRACE_S,
    SCENARIO_ENV,
    STARTUP_S,
    locustfile_path,
    spawn_locust,
    stop_locust,
    worker_command,
    write_scenario,
)

_MASTER = re.compile(r"^(?P<host>[^\s:;]+):(?P<port>\d{1,5})$")


def distributed(config: HarnessConfig, remote_workers: int | None,
                master_bind: str | None) -> HarnessConfig:
    """``config`` whose load check also waits for ``remote_workers`` on other hosts,
    listening on ``master_bind`` (each as configured when None)."""
    load = config.load.model_dump()
    if remote_workers is not None:
        load["remote_workers"] = remote_workers
    if master_bind is not None:
        load["master_bind"] = master_bind
    try:
        checked = LoadSpec.model_validate(load)
    except ValidationError as exc:
        problems = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError(f"--remote-workers/--master-bind: {problems}") from None
    return config.model_copy(update={"load": checked})


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
    bound_s = wait_s + STARTUP_S + config.load.run_time_s + GRACE_S
    log = out_dir / "locust-worker.log"
    process = spawn_locust(command, {**os.environ, SCENARIO_ENV: str(scenario)}, log, config.root)
    started = time.monotonic()
    try:
        code = process.wait(timeout=bound_s)
    except subprocess.TimeoutExpired:
        raise LoadTestError(
            f"the Locust worker for master {master} did not finish within {bound_s:.0f}s "
            f"(no master, or a run that never ended) and was stopped; see {log}") from None
    finally:
        stop_locust(process)
    if code != 0:
        tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
        raise LoadTestError(f"the Locust worker for master {master} exited {code} after "
                            f"{time.monotonic() - started:.0f}s: {tail or '(empty log)'}")
    return code
