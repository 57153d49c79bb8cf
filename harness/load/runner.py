"""Run a bounded Locust load test against a running service and read its results back.

Locust runs headless in its own processes — one master and N workers, on one machine
or many, the same way — because it monkey-patches with gevent on import; the harness
never imports it. Every run is bounded in time and requests and stops by itself; a
run that overruns is killed. A target that is not loopback is refused unless
``load.allow_remote`` allows it, before any traffic is sent.
"""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from harness.config import HarnessConfig
from harness.data.datasets import read_dataset
from harness.errors import ConfigError, LoadTestError
from harness.load.generator import read_generator_cpu
from harness.load.payloads import scenario_requests
from harness.load.results import LoadResults, read_results
from harness.model.adapters import features

SCENARIO_ENV = "HARNESS_LOAD_SCENARIO"
CPU_ENV = "HARNESS_LOAD_CPU"  # where the master writes the generator's CPU samples
CPU_FILE = "locust_cpu.json"
_MAX_RECORDS = 500  # distinct golden rows sent; enough variety, a small scenario file
STARTUP_S = 30.0  # for the master to see all workers connect
GRACE_S = 15.0  # beyond the configured run time before an overrunning run is killed
_PROBE_TIMEOUT_S = 3.0

# The generic scenario: speaks the harness's HTTP contract (/predict, /predict/batch, /health).
DEFAULT_LOCUSTFILE = Path(__file__).parent / "assets" / "locustfile.py"
# Loaded next to every scenario, the team's too: samples the generator's own CPU, and ends
# Locust's CSV writer quietly at shutdown.
CPU_MONITOR = Path(__file__).parent / "assets" / "generator_cpu.py"
CSV_SHUTDOWN = Path(__file__).parent / "assets" / "csv_shutdown.py"


def locustfiles(locustfile: Path) -> str:
    """Locust's ``-f``: the scenario and the harness's own additions (Locust merges the
    files)."""
    return f"{locustfile},{CPU_MONITOR},{CSV_SHUTDOWN}"


@dataclass(frozen=True)
class LoadTarget:
    """Where load goes; resolved once from ``--target-url``, ``load.url`` or ``model.url``."""

    url: str


def resolve_target(config: HarnessConfig, override: str | None = None) -> LoadTarget:
    """The load test's target URL, refused unless loopback or allowed on purpose."""
    url = override or config.load.url or config.model.url
    if not url:
        raise ConfigError(
            f"{config.source}: the load check needs the service's URL: set 'load.url' "
            "(or 'model.url'), or pass --target-url"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{config.source}: load target '{url}' is not an http(s) URL")
    if not config.load.allow_remote and not is_loopback(parts.hostname):
        raise ConfigError(
            f"{config.source}: load target {url} is not a loopback address; a load test sends "
            "real traffic, so a remote target must be allowed on purpose with "
            "'load.allow_remote: true'"
        )
    return LoadTarget(url.rstrip("/"))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve anywhere, so it is not loopback on purpose


def probe(url: str) -> str | None:
    """Why nothing answers at ``url`` (``None`` when something does), quickly."""
    try:
        httpx.get(f"{url}/health", timeout=_PROBE_TIMEOUT_S)
    except httpx.ConnectError as exc:
        reason = "connection refused" if "refused" in str(exc).lower() else f"cannot connect ({exc})"
        return f"{reason} at {url}"
    except httpx.TimeoutException:
        return f"no answer within {_PROBE_TIMEOUT_S:g}s at {url}"
    except httpx.TransportError as exc:
        return f"{type(exc).__name__} at {url}: {exc}"
    return None


def write_scenario(config: HarnessConfig, path: Path, workers: int) -> None:
    """The scenario the locustfile reads: weights, bounds and request bodies from golden rows."""
    load = config.load
    scenario = load.scenario
    name = scenario.dataset or config.golden[0].name
    spec = next((d for d in config.golden if d.name == name), None)
    if spec is None:
        known = ", ".join(d.name for d in config.golden)
        raise ConfigError(f"{config.source}: key 'load.scenario.dataset': no golden dataset "
                          f"'{name}' (known: {known})")
    frame = features(read_dataset(spec.name, config.resolve(spec.path)).frame, config.model)
    payload = {
        **scenario_requests(config, frame.head(_MAX_RECORDS), scenario.batch_size),
        "weights": {"predict": scenario.predict, "predict_batch": scenario.predict_batch,
                    "health": scenario.health},
        "batch_size": scenario.batch_size,
        "wait_s": scenario.wait_s,
        "users": load.users,
        "spawn_rate": load.spawn_rate,
        "run_time_s": load.run_time_s,
        "max_requests": load.max_requests,
        "workers": workers,
        "request_timeout_s": load.request_timeout_s,
    }
    path.write_text(json.dumps(payload), encoding="utf-8")


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host if host not in ("*", "") else "0.0.0.0", 0))
        return sock.getsockname()[1]


def worker_command(locustfile: Path, master_host: str, port: int) -> list[str]:
    """A Locust worker of this run: the same command on this machine or on another one."""
    return [sys.executable, "-m", "locust", "-f", locustfiles(locustfile), "--loglevel", "WARNING",
            "--worker", "--master-host", master_host, "--master-port", str(port)]


def locust_commands(locustfile: Path, url: str, out_dir: Path, workers: int,
                    port: int, bind_host: str = "127.0.0.1",
                    remote_workers: int = 0) -> tuple[list[str], list[list[str]]]:
    """The master's command and each local worker's. Workers on other machines run the
    same worker command (``harness load worker``) with ``--master-host`` pointing here."""
    base = [sys.executable, "-m", "locust", "-f", locustfiles(locustfile), "--loglevel", "WARNING"]
    master = [
        *base, "--headless", "--master",
        "--master-bind-host", bind_host, "--master-bind-port", str(port),
        "--expect-workers", str(workers + remote_workers),
        "--expect-workers-max-wait", str(int(STARTUP_S)),
        "--host", url,
        "--csv", str(out_dir / "locust"), "--csv-full-history",
        "--html", str(out_dir / "locust.html"),
        "--only-summary",
    ]
    local_host = "127.0.0.1" if bind_host in ("*", "0.0.0.0") else bind_host
    return master, [worker_command(locustfile, local_host, port)] * workers


def stop_locust(process: subprocess.Popen[bytes]) -> None:
    """End a process group we started, politely first."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def locustfile_path(config: HarnessConfig) -> Path:
    """The team's locustfile (``load.locustfile``), else the generic one the harness ships."""
    if config.load.locustfile is None:
        return DEFAULT_LOCUSTFILE
    return config.resolve(config.load.locustfile)


def run_load(config: HarnessConfig, out_dir: Path, target_url: str | None = None,
             stop: threading.Event | None = None) -> LoadResults:
    """Run the configured load test against the target and return what Locust measured.

    Locust's CSV, HTML and logs stay in ``out_dir``. A target where nothing answers gives
    results with ``unreachable`` set and no Locust run, in a few seconds. Setting ``stop``
    ends the run early (Locust quits as at its bounds and writes its results)."""
    target = resolve_target(config, target_url)
    locustfile = locustfile_path(config)
    if not locustfile.is_file():
        raise ConfigError(f"{config.source}: key 'load.locustfile': no such file: {locustfile}")
    out_dir = out_dir.absolute()  # Locust runs from the config's folder
    out_dir.mkdir(parents=True, exist_ok=True)
    reason = probe(target.url)
    if reason is not None:
        return LoadResults(url=target.url, unreachable=reason)
    workers, remote = config.load.worker_count(), config.load.remote_workers
    scenario = out_dir / "scenario.json"
    write_scenario(config, scenario, workers + remote)
    bind_host, port = "127.0.0.1", 0
    if config.load.master_bind is not None:
        bind_host, _, given = config.load.master_bind.rpartition(":")
        port = int(given)
    master_cmd, worker_cmds = locust_commands(locustfile, target.url, out_dir, workers,
                                              port or _free_port(bind_host), bind_host, remote)
    cpu = out_dir / CPU_FILE
    cpu.unlink(missing_ok=True)
    env = {**os.environ, SCENARIO_ENV: str(scenario), CPU_ENV: str(cpu)}
    bound_s = STARTUP_S + config.load.run_time_s + GRACE_S
    deadline = time.monotonic() + bound_s
    processes: list[subprocess.Popen[bytes]] = []
    try:
        master = spawn_locust(master_cmd, env, out_dir / "locust-master.log", config.root)
        processes.append(master)
        for i, command in enumerate(worker_cmds):
            processes.append(spawn_locust(command, env, out_dir / f"locust-worker-{i}.log",
                                    config.root))
        try:
            _wait(master, deadline, stop)
        except subprocess.TimeoutExpired:
            raise LoadTestError(
                f"Locust did not stop by itself within {bound_s:.0f}s (load.run_time_s plus "
                f"start-up) and was stopped; see {out_dir / 'locust-master.log'}"
            ) from None
        for worker in processes[1:]:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
    finally:
        for process in processes:
            stop_locust(process)
    if not (out_dir / "locust_stats.csv").exists():
        log = (out_dir / "locust-master.log").read_text(errors="replace").strip().splitlines()
        tail = " | ".join(log[-3:]) or "(empty log)"
        raise LoadTestError(
            f"Locust exited {master.returncode} without results: {tail} "
            f"(logs in {out_dir})"
        )
    results = read_results(out_dir / "locust", target.url, out_dir / "locust.html")
    return replace(results, generator=read_generator_cpu(cpu))


def _wait(master: subprocess.Popen[bytes], deadline: float,
          stop: threading.Event | None) -> None:
    """Wait for the master to end by itself, or until ``stop``; then ask it to quit (SIGTERM:
    Locust stops its users and writes its results) and wait for that."""
    while stop is not None and master.poll() is None and time.monotonic() < deadline:
        if stop.wait(0.1):
            master.send_signal(signal.SIGTERM)
            break
    master.wait(timeout=max(deadline - time.monotonic(), 1.0))


def spawn_locust(command: list[str], env: dict[str, str], log: Path,
           cwd: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        # Own session: the whole process group can be ended if Locust overruns.
        return subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
