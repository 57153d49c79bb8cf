"""Load past one machine, for real: the load check's Locust master listens on 127.0.0.2 and
two `harness load worker` processes connect to it from 127.0.0.3 and 127.0.0.4 (other
hosts, as far as the sockets can tell); the JUnit testcases are those of a one-machine run."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml

from harness.cli import main
from harness.config import load_config
from harness.errors import ConfigError
from harness.load.worker import parse_master
from harness.run.engine import CheckRun, run_check
from harness.run.verdict import read_junit
from tests.support.project import EXAMPLE, write_config

MASTER, WORKERS = "127.0.0.2", ("127.0.0.3", "127.0.0.4")
SLOS = [
    {"endpoint": "overall", "metric": "error_ratio", "max": 0.05},
    {"endpoint": "overall", "metric": "rps", "min": 1},
    {"endpoint": "/predict", "metric": "p95_ms", "max": 5000},
]


def free_port_on(host: str) -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def load_project_at(folder: Path, artifact: Path, url: str, **load: Any) -> Path:
    section = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())["load"]
    section.update(users=4, spawn_rate=20, run_time_s=3, max_requests=3000, slos=SLOS, **load)
    folder.mkdir(parents=True, exist_ok=True)
    return write_config(
        folder, model={"artifact": str(artifact), "url": url},
        golden=[{"name": "credit-v1", "path": str(EXAMPLE / "golden/credit/v1/credit.csv")}],
        training=None, load=section, profiles={"load": {"checks": ["load"]}},
    )


def case_outcomes(run: CheckRun) -> dict[str, str]:
    cases, problems = read_junit(run.junit)
    assert not problems
    return {f"{case.classname}::{case.name}": case.status for case in cases}


def _master_connections(port: int, pids: list[int]) -> set[str]:
    """Local addresses of the TCP connections that ``pids`` (and children) hold to the master."""
    found = set()
    for pid in pids:
        try:
            processes = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in processes:
            try:
                connections = process.net_connections("tcp")
            except psutil.Error:
                continue
            found |= {c.laddr.ip.removeprefix("::ffff:") for c in connections
                      if c.raddr and c.raddr.port == port
                      and c.raddr.ip.removeprefix("::ffff:") == MASTER}
    return found


def test_workers_on_other_addresses_give_the_testcases_of_a_one_machine_run(
        tmp_path: Path, model_artifact: Path, service_url: str) -> None:
    one = load_config(load_project_at(tmp_path / "one", model_artifact, service_url, workers=2))
    local = run_check(one, "load", tmp_path / "one" / "reports")

    port = free_port_on(MASTER)
    config = load_config(load_project_at(tmp_path / "multi", model_artifact, service_url, workers=0,
                                 remote_workers=2, master_bind=f"{MASTER}:{port}"))
    runs: list[CheckRun] = []
    master = threading.Thread(target=lambda: runs.append(
        run_check(config, "load", tmp_path / "multi" / "reports")))
    master.start()
    workers = [subprocess.Popen(
        [sys.executable, "-m", "harness", "--config", str(config.source), "load", "worker",
         "--master", f"{MASTER}:{port}", "--source", address, "--wait-s", "30",
         "--reports", str(tmp_path / f"worker-{address}")],
        cwd=config.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for address in WORKERS]
    seen: set[str] = set()
    try:
        deadline = time.monotonic() + 120
        while master.is_alive() and time.monotonic() < deadline:
            seen |= _master_connections(port, [w.pid for w in workers])
            time.sleep(0.2)
        master.join(timeout=max(deadline - time.monotonic(), 1))
        outputs = [w.communicate(timeout=60)[0] for w in workers]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    assert not master.is_alive(), "the distributed run did not end within its bound"
    assert [w.returncode for w in workers] == [0, 0], outputs
    assert seen == set(WORKERS), f"workers connected to the master from {seen}"
    [distributed] = runs
    assert case_outcomes(distributed) == case_outcomes(local)
    assert set(case_outcomes(local).values()) == {"passed"}, case_outcomes(local)
    assert len(case_outcomes(local)) == len(SLOS)
    [stats] = distributed.reports_dir.rglob("locust_stats.csv")
    assert int(stats.read_text().splitlines()[-1].split(",")[2]) > 0  # Aggregated requests


def test_a_malformed_master_address_is_named() -> None:
    assert parse_master("127.0.0.2:5557") == ("127.0.0.2", 5557)
    for bad in ("127.0.0.2", "host:0", "a;b:1", "host:99999"):
        with pytest.raises(ConfigError, match="is not HOST:PORT"):
            parse_master(bad)


def test_load_worker_refuses_a_bad_master_with_exit_2(tmp_path: Path, model_artifact: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    config = load_project_at(tmp_path, model_artifact, "http://127.0.0.1:9")
    assert main(["--config", str(config), "load", "worker", "--master", "nowhere"]) == 2
    assert "--master 'nowhere' is not HOST:PORT" in capsys.readouterr().err
