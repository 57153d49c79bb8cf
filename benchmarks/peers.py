"""The harness side by side with the tools a team would pick instead, on the same data in
one run, the tools alternating, each figure printed with its ratio and the load average.

    .venv/bin/python benchmarks/peers.py [--only server quality load startup] [--quick]
        [--seconds 10] [--rate 200] [--rows 10000 100000 1000000] [--runs 3]
    make peers

1. Model server: ``harness serve``, MLServer's scikit-learn runtime (Open Inference
   Protocol) and ``mlflow models serve`` on the credit model's artifact, loaded with wrk
   (flat out; paced; paced beside one busy process) and with the harness's Locust runner
   (paced): req/s, p50, p99, p99.9, the server's CPU per request and peak memory (its
   whole process tree, from /proc).
2. Quality check: ``harness check`` (paired intervals against the passport) against
   ``mlflow.models.evaluate`` and evidently's classification preset (point metrics) on the
   same golden rows and model: wall time and peak memory.
3. Load generator: the harness's load runner against raw ``locust --headless`` (the same
   locustfile and scenario) and wrk, on the same endpoint: the generator's CPU per request.
4. Start-up: ``harness check --profile pr`` against bare pytest (benchmarks/startup.py).

Nothing is downloaded while it measures: the servers and MLflow come from the
``protocols`` extra; evidently, whose pins conflict with ours (pandas < 3), runs in a
virtualenv of its own built once, before the timed run starts (benchmarks/peer_envs.py). Needs ``wrk``
and the credit model (``make model``). Figures on a shared 2-core host are noisy: the
load average is printed beside each table; run twice before believing a ratio.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import yaml

if TYPE_CHECKING:
    from harness.config import HarnessConfig

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"
ARTIFACT = EXAMPLE / "artifacts" / "credit"

# Start-up first: its peak memory is read from its children's rusage, which starts at the
# size of this process when they were forked (small before the other sections).
SECTIONS = ("startup", "server", "quality", "load")


# --- measuring ------------------------------------------------------------------------------


def load_average() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


@dataclass
class ProcessTree:
    """A server's processes (the one started and all its descendants): CPU seconds spent
    and the peak resident memory, both from /proc through psutil."""

    root: psutil.Process

    def processes(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_s(self) -> float:
        total = 0.0
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system + times.children_user + times.children_system
        return total

    def peak_mib(self) -> float:
        """Sum over the tree of each process's high-water resident set (VmHWM)."""
        total = 0
        for process in self.processes():
            try:
                status = Path(f"/proc/{process.pid}/status").read_text()
            except OSError:
                continue
            found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
            total += int(found.group(1)) if found else 0
        return total / 1024

    @classmethod
    def listening_on(cls, port: int) -> ProcessTree:
        """The tree of this process's child that (itself or a descendant) listens on
        ``port``: how a server started by a helper that yields only its URL is found."""
        listener = next(c.pid for c in psutil.net_connections("tcp")
                        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN)
        process = psutil.Process(listener)
        while process.ppid() != os.getpid():
            process = psutil.Process(process.ppid())
        return cls(process)


@dataclass(frozen=True)
class LoadFigures:
    """One load run against one server."""

    server: str
    load: str
    rps: float
    p50_ms: float
    p99_ms: float
    p999_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float


def parse_wrk(output: str) -> tuple[int, int, float, float, float, float]:
    """(requests, errors, seconds, p50, p99, p99.9 in ms) from the line our Lua ``done``
    prints; wrk's own summary has no 99.9th percentile."""
    found = re.search(r"^PEERS (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)$", output, re.MULTILINE)
    if found is None:
        raise ValueError(f"wrk printed no PEERS line:\n{output[-500:]}")
    requests, errors, duration_us, p50, p99, p999 = (int(x) for x in found.groups())
    return requests, errors, duration_us / 1e6, p50 / 1e3, p99 / 1e3, p999 / 1e3


def wrk_script(folder: Path, name: str, body: object, delay_ms: float | None) -> Path:
    """A wrk script POSTing ``body``; ``delay_ms`` paces each connection; ``done`` prints
    the counts and percentiles on one line (non-2xx answers and socket errors are errors)."""
    text = json.dumps(body)
    if "]==]" in text:
        raise ValueError("the request body cannot be quoted as a Lua long string")
    lines = ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/json"',
             f"wrk.body = [==[{text}]==]"]
    if delay_ms is not None:
        lines.append(f"function delay() return {max(delay_ms, 0):.0f} end")
    lines.append(
        "function done(summary, latency, requests)\n"
        "  local e = summary.errors\n"
        '  io.write(string.format("PEERS %d %d %d %d %d %d\\n", summary.requests,\n'
        "    e.status + e.connect + e.read + e.write + e.timeout, summary.duration,\n"
        "    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))\n"
        "end")
    path = folder / f"{name}.lua"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_wrk(url: str, script: Path, connections: int, seconds: float) -> tuple[
        int, int, float, float, float, float]:
    done = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                           "--timeout", "5s", "-s", str(script), url],
                          capture_output=True, text=True, check=True, timeout=seconds + 30)
    return parse_wrk(done.stdout)


def children_cpu_s() -> float:
    """CPU seconds of this process's finished children (wrk, Locust): a generator's cost."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def busy_process() -> Iterator[None]:
    """One other process keeping a core busy for the duration, then ended by its id."""
    process = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield
    finally:
        process.kill()
        process.wait(timeout=10)


# --- printing -------------------------------------------------------------------------------


def table(title: str, header: list[str], rows: list[list[object]]) -> str:
    """A plain-text table: text columns left-aligned, numbers right-aligned."""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(header)]
    text = [all(isinstance(row[i], str) for row in rows) for i in range(len(header))]

    def line(values: list[str]) -> str:
        return "  " + "  ".join(v.ljust(widths[i]) if text[i] else v.rjust(widths[i])
                                for i, v in enumerate(values)).rstrip()

    return "\n".join([title, line(header), *(line(row) for row in cells)])


def _cell(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}" if abs(
            value) < 10 else f"{value:.1f}"
    return str(value)


def ratio_line(what: str, ours: float, best: float, best_name: str, goal: str,
               met: bool) -> str:
    value = ours / best if best else math.inf
    return (f"  {what}: harness {_cell(ours)} / {best_name} {_cell(best)} = {value:.2f}x "
            f"(goal {goal}: {'met' if met else 'MISSED'})")


# --- 1. model servers -----------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    tree: ProcessTree
    config: Path  # a harness.yaml reaching it in its protocol (for Locust)
    path: str = ""  # the single-record inference path
    body: object = None  # the single-record body, as Locust's first request
    figures: list[LoadFigures] = field(default_factory=list)


def _server_config(folder: Path, name: str, url: str, protocol: str,
                   entrypoint: str = "credit_model.model:load_model") -> Path:
    """The credit project's harness.yaml, from ``folder``: reaching ``url`` in
    ``protocol`` (the load runner's target), loading the model through ``entrypoint``."""
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"].update(url=url, artifact=str(ARTIFACT), protocol=protocol,
                         entrypoint=entrypoint)
    if protocol == "open-inference-v2":
        data["model"]["served_name"] = "credit"
    data["golden"] = [{"name": g["name"], "path": str(EXAMPLE / g["path"])}
                      for g in data["golden"]]
    data["training"] = None
    data["passports"] = str(EXAMPLE / data["passports"])
    data["profiles"] = {"load": {"checks": ["load"]}}
    path = folder / f"harness-{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _with_request(server: Server, folder: Path) -> Server:
    """The first golden row in the server's protocol, as the load scenario sends it."""
    from harness.config import load_config
    from harness.load.runner import write_scenario

    scenario = folder / f"scenario-{server.tree.root.pid}.json"
    write_scenario(load_config(server.config), scenario, 1)
    data = json.loads(scenario.read_text())
    server.path, server.body = data["paths"]["predict"], data["singles"][0]
    return server


# The entry point of docs/model-contract.md's example: the fitted pipeline as it is, so the
# harness serves exactly what the peers serve (the credit team's own entry point adds a
# faster preprocessing of one record, which the peers' runtimes cannot use).
PLAIN_ENTRYPOINT = """from pathlib import Path

import joblib


def load(artifact):
    return joblib.load(Path(artifact) / "model.joblib")
"""


def _harness_server(stack: ExitStack, folder: Path, name: str, serving: Path,
                    entrypoint: str) -> Server:
    """``harness serve`` with the config ``serving``; ``entrypoint`` is the one it names."""
    from harness.processes import wait_ready
    from tests.support.service_process import free_port

    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "harness", "--config", str(serving), "serve", "--artifact",
         str(ARTIFACT), "--port", str(port)], stdin=subprocess.DEVNULL)
    stack.callback(lambda: (process.terminate(), process.wait(timeout=10)))
    url = f"http://127.0.0.1:{port}"
    problem = wait_ready(f"{url}/ready", 60, process.pid)
    if problem is not None:
        raise RuntimeError(f"harness serve ({name}) did not start: {problem}")
    return Server(name, url, ProcessTree(psutil.Process(process.pid)),
                  _server_config(folder, f"load-{port}", url, "harness", entrypoint))


@contextmanager
def servers(folder: Path) -> Iterator[list[Server]]:
    """The servers on the same model artifact, each on its own loopback port: the harness
    with the credit team's entry point and with the plain pipeline, MLServer, mlflow."""
    from tests.support.model_servers import mlflow_server, mlserver, save_mlflow_models

    model = ARTIFACT / "model.joblib"
    with ExitStack() as stack:
        started = [_harness_server(stack, folder, "harness serve", EXAMPLE / "harness.yaml",
                                   "credit_model.model:load_model")]
        (folder / "plain_pipeline.py").write_text(PLAIN_ENTRYPOINT)
        plain = _server_config(folder, "plain", "http://127.0.0.1:1", "harness",
                               "plain_pipeline:load")
        started.append(_harness_server(stack, folder, "harness serve, plain pipeline", plain,
                                       "plain_pipeline:load"))
        (folder / "mlserver").mkdir()
        url = stack.enter_context(mlserver({"credit": model}, folder / "mlserver"))
        started.append(Server("MLServer sklearn", url, ProcessTree.listening_on(_port(url)),
                              _server_config(folder, "mlserver", url, "open-inference-v2")))
        save_mlflow_models([(model, folder / "mlflow-model", "predict_proba")])
        (folder / "mlflow").mkdir()
        url = stack.enter_context(mlflow_server(folder / "mlflow-model", folder / "mlflow"))
        started.append(Server("mlflow models serve", url, ProcessTree.listening_on(_port(url)),
                              _server_config(folder, "mlflow", url, "mlflow")))
        yield [_with_request(s, folder) for s in started]


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _wrk_run(server: Server, folder: Path, load: str, connections: int, seconds: float,
             delay_ms: float | None) -> LoadFigures:
    script = wrk_script(folder, f"{load.split()[0]}-{server.tree.root.pid}", server.body,
                        delay_ms)
    cpu = server.tree.cpu_s()
    requests, errors, duration, p50, p99, p999 = run_wrk(server.url + server.path, script,
                                                         connections, seconds)
    cpu = server.tree.cpu_s() - cpu
    return LoadFigures(server.name, load, requests / duration, p50, p99, p999, requests,
                       errors, cpu * 1000 / max(requests, 1))


def _locust_run(server: Server, folder: Path, rate: float, seconds: float) -> LoadFigures:
    """The harness's load runner on single records at ``rate``: ``rate / 10`` users each
    waiting 0.1 s between requests (as benchmarks/server_latency.py)."""
    from harness.config import load_config
    from harness.load.runner import run_load

    users = max(1, math.ceil(rate / 10))
    data = yaml.safe_load(server.config.read_text())
    data["load"].update(users=users, spawn_rate=users, run_time_s=seconds, workers=1,
                        max_requests=10_000_000, slos=[])
    data["load"]["scenario"].update(predict=1, predict_batch=0, health=0, wait_s=0.1)
    config = server.config.with_name(f"locust-{server.config.name}")
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = folder / f"locust-{server.tree.root.pid}-{time.monotonic_ns()}"
    cpu = server.tree.cpu_s()
    results = run_load(load_config(config), out)
    cpu = server.tree.cpu_s() - cpu
    stats = results.endpoints[server.path]
    return LoadFigures(server.name, f"Locust paced {rate:g}/s ({users} users)", stats.rps,
                       stats.p50_ms, stats.p99_ms, locust_percentile(out, server.path, "99.9%"),
                       stats.requests, stats.failures, cpu * 1000 / max(stats.requests, 1))


def locust_percentile(out: Path, name: str, column: str) -> float:
    """A percentile Locust wrote to its stats CSV that the harness does not read back."""
    import csv

    with (out / "locust_stats.csv").open(newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == name)
    return float(row[column]) if row[column] not in ("", "N/A") else math.nan


def server_section(folder: Path, seconds: float, rate: float) -> None:
    connections = 20
    # Each wrk connection waits `delay` after an answer: about connections / delay per s.
    delay = connections * 1000 / rate - 1
    loads: list[tuple[str, Callable[[Server], LoadFigures]]] = [
        ("wrk flat out (4 c)", lambda s: _wrk_run(s, folder, "wrk flat out (4 c)", 4, seconds,
                                                  None)),
        (f"wrk paced ~{rate:g}/s", lambda s: _wrk_run(s, folder, f"wrk paced ~{rate:g}/s",
                                                      connections, seconds, delay)),
        ("Locust paced", lambda s: _locust_run(s, folder, rate, seconds)),
        ("wrk paced + busy", lambda s: _busy(s, folder, connections, seconds, delay, rate)),
    ]
    started = time.monotonic()
    with servers(folder) as running:
        print(f"  servers started in {time.monotonic() - started:.0f} s; {load_average()}",
              flush=True)
        for s in running:  # warm-up: lazy imports and first-call caches
            _wrk_run(s, folder, "warm-up", 2, 2, None)
        for _, run in loads:
            for s in running:  # alternating: a burst of load elsewhere hits them all
                s.figures.append(run(s))
        peaks = {s.name: s.tree.peak_mib() for s in running}
    rows = [[f.load, f.server, f.rps, f.p50_ms, f.p99_ms, f.p999_ms, f.errors,
             f.cpu_ms_per_request, peaks[f.server]]
            for i in range(len(loads)) for f in (s.figures[i] for s in running)]
    print(table(f"POST one record, credit model, {seconds:g} s per run; {load_average()}",
                ["load", "server", "req/s", "p50 ms", "p99 ms", "p99.9 ms", "errors",
                 "CPU ms/req", "peak MiB"], rows))
    print(server_goals(running))


def server_goals(running: list[Server]) -> str:
    """The issue's three goals for each harness server (its name starts with "harness")
    against the best peer: index 0 of ``figures`` is flat out, 1 paced, 3 paced and busy."""
    ours = [s for s in running if s.name.startswith("harness")]
    peers = [s for s in running if not s.name.startswith("harness")]
    lines = []
    for mine in ours:
        lines.append(f"  {mine.name}:")
        best = min((p.figures[1] for p in peers), key=lambda f: f.p99_ms)
        p99 = mine.figures[1].p99_ms
        lines.append(ratio_line("  p99 at the paced rate (wrk)", p99, best.p99_ms, best.server,
                                "<= 0.8x", p99 <= 0.8 * best.p99_ms))
        for index, label in ((0, "flat out"), (1, "paced")):
            cheapest = min((p.figures[index] for p in peers),
                           key=lambda f: f.cpu_ms_per_request)
            cpu = mine.figures[index].cpu_ms_per_request
            lines.append(ratio_line(f"  CPU ms per request, {label}", cpu,
                                    cheapest.cpu_ms_per_request, cheapest.server, "<= 1x",
                                    cpu <= cheapest.cpu_ms_per_request))
        busy = mine.figures[3].p99_ms
        lines.append(f"    p99 paced beside one busy process: {busy:.1f} ms (goal <= 20 ms: "
                     f"{'met' if busy <= 20 else 'MISSED'})")
    return "\n".join(lines)


def _busy(server: Server, folder: Path, connections: int, seconds: float, delay: float,
          rate: float) -> LoadFigures:
    with busy_process():
        return _wrk_run(server, folder, f"wrk paced ~{rate:g}/s + 1 busy process", connections,
                        seconds, delay)


# --- 2. quality check -----------------------------------------------------------------------


@dataclass(frozen=True)
class QualityFigures:
    tool: str
    rows: int
    wall_s: float
    peak_mib: float
    inside_s: float  # the tool's own work, without its interpreter's start-up and imports
    note: str


def _measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, int]:
    """(wall seconds, peak MiB of the largest process, exit code) of one command. The peak
    is /usr/bin/time's: the maximum resident set a child reports to its parent survives
    exec, so measured from this (large) process it would start at this process's size."""
    started = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", "peak-kib %M", *command],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          env=env, check=False)
    wall = time.perf_counter() - started
    peak = re.findall(r"^peak-kib (\d+)$", done.stderr, re.MULTILINE)
    if done.returncode != 0:
        print(f"  {' '.join(command[:3])}... exited {done.returncode}: {done.stderr[-800:]}",
              file=sys.stderr)
    return wall, int(peak[-1]) / 1024 if peak else math.nan, done.returncode


def _peer_quality(tool: str, python: Path, golden: Path, model: Path, rows: int,
                  folder: Path) -> QualityFigures:
    out = folder / f"{tool}-{rows}.json"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    wall, peak, code = _measured([str(python), str(ROOT / "benchmarks/peers_quality.py"), tool,
                                  str(golden), str(model), str(out)], env)
    if code != 0 or not out.exists():
        return QualityFigures(tool, rows, wall, peak, math.nan, f"failed (exit {code})")
    result = json.loads(out.read_text())
    stages = result["stages"]
    inside = sum(v for k, v in stages.items() if k not in ("import", "tracking set-up"))
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in sorted(result["metrics"].items())[:3])
    return QualityFigures(tool, rows, wall, peak, inside, metrics)


def quality_section(folder: Path, sizes: list[int]) -> None:
    import quality_scale
    from peer_envs import python as peer_python

    from tests.support.model_servers import save_mlflow_models

    candidate = quality_scale._artifact(0, folder)
    baseline = quality_scale._artifact(1, folder)
    mlflow_model = folder / "mlflow-evaluate-model"
    save_mlflow_models([(candidate / "model.joblib", mlflow_model, "predict")])
    evidently = peer_python("evidently")
    rows_out: list[QualityFigures] = []
    for rows in sorted(sizes):
        project = folder / f"rows-{rows}"
        project.mkdir()
        config = quality_scale._project(project, rows, candidate, "auto")
        quality_scale._bless(config, baseline)
        golden = project / "golden/credit/v1/credit.csv"
        wall, _, peak, verdict, methods = quality_scale._check(config)
        used = ", ".join(f"{k} {v}" for k, v in sorted(methods.items()))
        rows_out.append(QualityFigures("harness check (paired intervals)", rows, wall, peak,
                                       math.nan, f"{used}; {verdict[:60]}"))
        rows_out.append(_peer_quality("mlflow", Path(sys.executable), golden, mlflow_model,
                                      rows, folder))
        rows_out.append(_peer_quality("evidently", evidently, golden,
                                      candidate / "model.joblib", rows, folder))
        print(f"  {rows:,} rows done; {load_average()}", flush=True)
    print(table(f"quality check on the same golden rows and model; {load_average()}",
                ["tool", "rows", "wall s", "own work s", "peak MiB", "note"],
                [[f.tool, f"{f.rows:,}", f.wall_s, f.inside_s, f.peak_mib, f.note]
                 for f in rows_out]))
    largest = max(sizes)
    at = [f for f in rows_out if f.rows == largest]
    ours = at[0]
    fastest = min((f for f in at[1:] if not math.isnan(f.inside_s)), key=lambda f: f.wall_s,
                  default=None)
    if fastest is not None:
        print(ratio_line(f"wall s at {largest:,} rows", ours.wall_s, fastest.wall_s,
                         fastest.tool, "<= 1x", ours.wall_s <= fastest.wall_s))


# --- 3. load generators ---------------------------------------------------------------------


def load_section(folder: Path, seconds: float, users: int, rounds: int) -> None:
    """The generators on the harness server's /predict, alternating for ``rounds``: each
    one's CPU per request in the steady state, and over the whole run."""
    from harness.config import load_config
    from harness.load.runner import write_scenario
    from tests.support.service_process import running_service

    seconds = max(seconds, 5.0)  # room for a steady window after the ramp
    with running_service(ARTIFACT) as url:
        server = ProcessTree.listening_on(_port(url))
        config_path = _server_config(folder, "load", url, "harness")
        data = yaml.safe_load(config_path.read_text())
        data["load"].update(users=users, spawn_rate=users, run_time_s=seconds, workers=1,
                            max_requests=10_000_000, slos=[])
        data["load"]["scenario"].update(predict=1, predict_batch=0, health=0, wait_s=0)
        config_path.write_text(yaml.safe_dump(data, sort_keys=False))
        config = load_config(config_path)
        # The locustfile's shape stops the run at the scenario's run_time_s: raw Locust
        # reads the same file the harness writes.
        scenario = folder / "scenario.json"
        write_scenario(config, scenario, 1)
        body = json.loads(scenario.read_text())["singles"][0]
        script = wrk_script(folder, "generator", body, None)
        generators = (("harness load runner (master + 1 worker)", _harness_locust),
                      ("raw locust --headless (1 process)", _raw_locust),
                      ("raw locust --headless --processes 1", _raw_locust_forked),
                      ("wrk -t2", _wrk_generator))
        figures: dict[str, list[GeneratorFigures]] = {}
        for round_ in range(rounds):
            for index, (name, run) in enumerate(generators):
                out = folder / f"{round_}-{index}"
                figures.setdefault(name, []).append(_steady(
                    partial(run, config, scenario, script, url, users, seconds, out),
                    url, server, seconds))
    rows = []
    for name, runs in figures.items():
        rows.append([name, _median([f.rps for f in runs]), _median([f.steady_us for f in runs]),
                     " ".join(f"{f.steady_us:.0f}" for f in runs),
                     _median([f.whole_us for f in runs])])
    print(table(f"load generators, {users} users/connections, {seconds:g} s runs, {rounds} "
                f"rounds alternating, POST /predict of harness serve; {load_average()}",
                ["generator", "req/s", "steady CPU us/req", "each round", "whole run us/req"],
                rows))
    steady = {name: _median([f.steady_us for f in runs]) for name, runs in figures.items()}
    ours, single, forked = list(steady.values())[:3]
    for raw, shape in ((single, "1 process"), (forked, "master + 1 worker")):
        print(ratio_line(f"generator CPU us per request, steady, raw Locust in {shape}",
                         ours, raw, "raw Locust", "<= 1.1x", ours <= 1.1 * raw))


@dataclass(frozen=True)
class GeneratorFigures:
    """One generator's run: the server's answers a second and the generator's CPU per
    answer in the steady window, and its CPU per request over the whole run."""

    rps: float
    steady_us: float
    whole_us: float


def _median(values: list[float]) -> float:
    """The median of the values that are numbers (NaN: a run with no steady window)."""
    ordered = sorted(v for v in values if not math.isnan(v))
    if not ordered:
        return math.nan
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _answered(url: str) -> float:
    """The 200s the harness server has sent to POST /predict (its /metrics)."""
    import httpx

    text = httpx.get(f"{url}/metrics", timeout=10).text
    found = re.search(r'^harness_server_requests_total\{endpoint="/predict",method="POST",'
                      r'status="200"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def _generator_cpu(server: ProcessTree) -> dict[int, float]:
    """CPU seconds of each process this one started, and their children, but the server's."""
    serving = {p.pid for p in server.processes()}
    seconds = {}
    for process in psutil.Process().children(recursive=True):
        if process.pid in serving:
            continue
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[process.pid] = times.user + times.system
    return seconds


def _steady(run: Callable[[], tuple[int, float]], url: str, server: ProcessTree,
            seconds: float) -> GeneratorFigures:
    """``run`` (a generator's whole run, returning its requests) in a thread, measured in
    its steady state: from 1 s after the server's first answer (every user started) to
    1.5 s before the run's end, the generator processes' CPU over the server's answers.
    Start-up, ramp and the final reports stay out, and requests are counted by the
    server, the same way for every generator."""
    import threading

    done: list[tuple[int, float]] = []
    whole = children_cpu_s()
    thread = threading.Thread(target=lambda: done.append(run()))
    first = _answered(url)
    thread.start()
    while _answered(url) == first and thread.is_alive():
        time.sleep(0.05)
    time.sleep(1.0)
    cpu, answered, started = _generator_cpu(server), _answered(url), time.monotonic()
    time.sleep(max(seconds - 2.5, 0.5))
    cpu_end, answered_end = _generator_cpu(server), _answered(url)
    window = time.monotonic() - started
    # A run that ended inside the window (its start-up took most of its time on a busy
    # host) had no steady state to measure.
    steady = thread.is_alive() and answered_end > answered
    thread.join()
    whole = children_cpu_s() - whole
    # A process that ended inside the window is lost; one that began in it counts whole.
    used = sum(end - cpu.get(pid, 0.0) for pid, end in cpu_end.items())
    answers = answered_end - answered
    requests = done[0][0] if done else 0
    return GeneratorFigures(answers / window, used / answers * 1e6 if steady else math.nan,
                            whole / max(requests, 1) * 1e6)


def _harness_locust(config: HarnessConfig, scenario: Path, script: Path, url: str, users: int,
                    seconds: float, out: Path) -> tuple[int, float]:
    from harness.load.runner import run_load

    stats = run_load(config, out).endpoints["/predict"]
    return stats.requests, stats.rps


def _raw_locust(config: HarnessConfig, scenario: Path, script: Path, url: str, users: int,
                seconds: float, out: Path, forked: bool = False) -> tuple[int, float]:
    """The same locustfile and scenario, as Locust's own command runs them: in one process,
    or ``forked`` into a master and one worker, the harness's shape."""
    from harness.load.runner import DEFAULT_LOCUSTFILE, SCENARIO_ENV

    out.mkdir()
    subprocess.run([sys.executable, "-m", "locust", "-f", str(DEFAULT_LOCUSTFILE), "--headless",
                    "-u", str(users), "-r", str(users), "-t", f"{round(seconds)}s", "--host",
                    url, "--csv", str(out / "locust"), "--only-summary", "--loglevel",
                    "WARNING", *(["--processes", "1"] if forked else [])],
                   env={**os.environ, SCENARIO_ENV: str(scenario)}, cwd=out,
                   capture_output=True, check=True, timeout=seconds + 60)
    rps, requests = _locust_total(out / "locust_stats.csv")
    return requests, rps


def _raw_locust_forked(config: HarnessConfig, scenario: Path, script: Path, url: str,
                       users: int, seconds: float, out: Path) -> tuple[int, float]:
    return _raw_locust(config, scenario, script, url, users, seconds, out, forked=True)


def _wrk_generator(config: HarnessConfig, scenario: Path, script: Path, url: str, users: int,
                   seconds: float, out: Path) -> tuple[int, float]:
    requests, _, duration, *_ = run_wrk(f"{url}/predict", script, users, seconds)
    return requests, requests / duration


def _locust_total(path: Path) -> tuple[float, int]:
    import csv

    with path.open(newline="") as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return float(row["Requests/s"]), int(row["Request Count"])


# --- 4. start-up ----------------------------------------------------------------------------


def startup_section(runs: int) -> None:
    from startup import _compare

    config = EXAMPLE / "harness.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        medians = _compare(f"start-up: the pull-request check against bare pytest on the same "
                           f"suites, medians of {runs}; {load_average()}", {
            # As benchmarks/startup.py runs it.
            "harness check --profile pr": [sys.executable, "-m", "harness", "--config",
                                           str(config), "check", "--profile", "pr",
                                           "--reports", str(Path(tmp) / "reports")],
            "pytest suites/unit": [sys.executable, "-m", "pytest", "-q", "-p",
                                   "no:cacheprovider", "suites/unit"],
        }, EXAMPLE, runs)
    (ours, ours_cpu), (bare, bare_cpu) = (medians["harness check --profile pr"],
                                          medians["pytest suites/unit"])
    print(ratio_line("wall s", ours, bare, "bare pytest", "<= 1.2x", ours <= 1.2 * bare))
    print(f"  CPU s: harness {ours_cpu:.2f} / bare pytest {bare_cpu:.2f} = "
          f"{ours_cpu / bare_cpu:.2f}x")


# --- the command ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                        help="the sections to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="short runs on small data: 2 s loads, 2,000 rows, 1 start-up run")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per load run")
    parser.add_argument("--rate", type=float, default=200, help="paced requests per second")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--runs", type=int, default=3, help="start-up runs per command")
    parser.add_argument("--users", type=int, default=10, help="load generator section's users")
    parser.add_argument("--load-rounds", type=int, default=2,
                        help="load generator section's rounds, the generators alternating")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.rows, args.runs = 2, [2_000], 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # The project's test helpers (which start the peers' servers), the credit model's code
    # (to train the quality section's baseline) and the other benchmarks it reuses.
    sys.path[:0] = [str(ROOT), str(EXAMPLE), str(ROOT / "benchmarks")]
    if shutil.which("wrk") is None and {"server", "load"} & set(args.only):
        print("peers.py: wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    if not (ARTIFACT / "model.joblib").is_file():
        print(f"peers.py: no credit model at {ARTIFACT}: run `make model` first",
              file=sys.stderr)
        return 2
    if "quality" in args.only:
        # Set-up, as `make install` is, not the benchmark: built once, then reused.
        from peer_envs import python as peer_python

        building = time.monotonic()
        peer_python("evidently")
        if time.monotonic() - building > 5:
            print(f"(built in {time.monotonic() - building:.0f} s, outside the timed run)")
    started = time.monotonic()
    print(f"harness and its peers; {os.cpu_count()} cores, {load_average()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="peers-") as tmp:
        folder = Path(tmp)
        for section in SECTIONS:
            if section not in args.only:
                continue
            print(f"\n== {section} ==", flush=True)
            section_started = time.monotonic()
            where = folder / section
            where.mkdir()
            if section == "server":
                server_section(where, args.seconds, args.rate)
            elif section == "quality":
                quality_section(where, args.rows)
            elif section == "load":
                load_section(where, args.seconds, args.users, args.load_rounds)
            else:
                startup_section(args.runs)
            print(f"  ({section}: {time.monotonic() - section_started:.0f} s)", flush=True)
    print(f"\ndone in {time.monotonic() - started:.0f} s; {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
