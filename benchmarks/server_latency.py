"""Single-record ``POST /predict`` latency of the generic model server (``harness serve``) on
the reference model, on loopback: wrk at full speed, wrk paced to a fixed rate, and the
harness's own load runner (Locust, as ``harness check`` runs it) at the same rate.

    .venv/bin/python benchmarks/server_latency.py [--rate 200] [--seconds 20]
        [--config examples/credit/harness.yaml] [--artifact examples/credit/artifacts/credit]

Prints requests per second, p50/p99 and the server's own CPU time per request (from
/proc, so it holds on a busy host where latency does not). wrk is closed-loop: it is paced
by a per-connection delay, and the rate it reached is printed beside the target. Needs
`wrk` (Debian: apt-get install -y wrk). Figures on a shared machine are noisy: run twice.
To measure another checkout's server, put it first on PYTHONPATH; the server is started
with this interpreter as ``python -m harness``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.config import load_config
from harness.load.runner import run_load
from harness.processes import wait_ready

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"


@dataclass(frozen=True)
class Figures:
    tool: str
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float

    def line(self) -> str:
        return (f"  {self.tool:<34}{self.rps:>8.1f}{self.p50_ms:>9.1f}{self.p99_ms:>9.1f}"
                f"{self.requests:>9}{self.errors:>7}{self.cpu_ms_per_request:>12.2f}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _record(config: Path) -> dict[str, object]:
    """The first golden row, as the JSON record a client sends."""
    loaded = load_config(config)
    from harness.data.datasets import read_dataset
    from harness.model.adapters import features
    from harness.model.protocols import json_records

    spec = loaded.golden[0]
    frame = features(read_dataset(spec.name, loaded.resolve(spec.path)).frame, loaded.model)
    return json_records(frame.head(1))[0]


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if found is None:
        raise ValueError(f"wrk printed a latency this script cannot read: {text!r}")
    value, unit = found.groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[unit]


def _wrk(url: str, script: Path, connections: int, seconds: float, pid: int,
         label: str) -> Figures:
    cpu = _cpu_s(pid)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", "--latency",
                          "-s", str(script), url], capture_output=True, text=True,
                         check=True).stdout
    cpu = _cpu_s(pid) - cpu
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return Figures(
        tool=label,
        rps=float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        # Anchored: a "Req/Sec ... 70.50%" line must not pass for the 50th percentile.
        p50_ms=_ms(re.search(r"^\s+50%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"^\s+99%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        requests=total, errors=int(errors.group(1)) if errors else 0,
        cpu_ms_per_request=cpu * 1000 / max(total, 1),
    )


def _wrk_script(folder: Path, record: dict[str, object], delay_ms: float | None) -> Path:
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"',
             f"wrk.body = [[{json.dumps(record)}]]"]
    if delay_ms is not None:
        lines.append(f"function delay() return {delay_ms:.0f} end")
    path = folder / ("paced.lua" if delay_ms is not None else "flat.lua")
    path.write_text("\n".join(lines) + "\n")
    return path


def _locust(config: Path, folder: Path, url: str, rate: float, seconds: float,
            pid: int) -> Figures:
    """The harness's load runner, single records only: ``rate / 10`` users each waiting
    0.1 s between requests, so the rate holds while a request takes well under 0.1 s (a
    user per request per second would spend Locust's own CPU on idle greenlets)."""
    data = yaml.safe_load(config.read_text())
    users = max(1, math.ceil(rate / 10))
    data["load"].update(url=url, users=users, spawn_rate=users, run_time_s=seconds,
                        max_requests=10_000_000, slos=[])
    data["load"]["scenario"].update(predict=1, predict_batch=0, health=0, wait_s=0.1)
    path = config.parent / f".server-latency-{os.getpid()}.yaml"
    path.write_text(yaml.safe_dump(data))
    try:
        cpu = _cpu_s(pid)
        results = run_load(load_config(path), folder / "locust")
        cpu = _cpu_s(pid) - cpu
    finally:
        path.unlink()
    stats = results.endpoints["/predict"]
    return Figures(f"harness load runner ({users} users)", stats.rps, stats.p50_ms,
                   stats.p99_ms, stats.requests, stats.failures,
                   cpu * 1000 / max(stats.requests, 1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=EXAMPLE / "harness.yaml")
    parser.add_argument("--artifact", type=Path, default=None,
                        help="model artifact folder (default: the config's model.artifact)")
    parser.add_argument("--rate", type=float, default=200, help="target requests/s")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--connections", type=int, default=20,
                        help="wrk connections of the paced run")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    config = args.config.resolve()
    command = [sys.executable, "-m", "harness", "--config", str(config), "serve",
               "--port", str(port := _free_port())]
    if args.artifact is not None:
        command += ["--artifact", str(args.artifact.resolve())]
    server = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    try:
        problem = wait_ready(f"{url}/ready", 60, server.pid)
        if problem is not None:
            print(f"the server did not start: {problem}", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            record = _record(config)
            flat = _wrk_script(folder, record, None)
            # Warm up: first calls import lazily and fill caches.
            _wrk(f"{url}/predict", flat, 2, 2, server.pid, "warm-up")
            runs = [_wrk(f"{url}/predict", flat, 4, args.seconds, server.pid,
                         "wrk, 4 connections, flat out")]
            # Each connection waits `delay` after an answer: rate ~ connections / delay.
            delay = args.connections * 1000 / args.rate
            paced = _wrk_script(folder, record, max(delay - 1, 0))
            runs.append(_wrk(f"{url}/predict", paced, args.connections, args.seconds,
                             server.pid, f"wrk paced to ~{args.rate:g}/s ({args.connections} c)"))
            runs.append(_locust(config, folder, url, args.rate, args.seconds, server.pid))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"POST /predict, one record, {config.parent.name} model, {args.seconds:g} s per run, "
          f"target rate {args.rate:g}/s; {os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  {'load generator':<34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'requests':>9}"
          f"{'errors':>7}{'CPU ms/req':>12}")
    for figures in runs:
        print(figures.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
