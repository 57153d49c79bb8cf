"""Production's path with the shadow mirror off and on: what nginx's ``mirror`` costs the
requests production answers, on loopback, with the harness's router and generic server.

    .venv/bin/python benchmarks/shadow_mirror.py --artifact ARTIFACT [--rate 100]
        [--seconds 5] [--rounds 6] [--timeout-ms 200] [--nice 10]
        [--config examples/credit/harness.yaml]

One production server behind nginx (harness/deploy/router.py), and two candidates: one as
fast as production (the same model) and one made 10x slower (``HARNESS_INJECT_LATENCY_MS``
at ten times production's p50 with the mirror off). wrk, paced to ``--rate`` requests per
second, sends single-record ``POST /predict`` requests through nginx; the phases mirror
off, mirror on (fast candidate) and mirror on (slow candidate) alternate in each round, so
a busy host's drift falls on all three alike. Then one flat-out pair (off, on with the
fast candidate), where the candidate's scoring competes with production's for the cores.
Prints p50, p99 and throughput per phase and round, their ratios, and whether the slow
candidate kept production's p99 within the mirror-off p99 plus the mirror's timeout.

Each round also has a phase with the mirror off and a busy loop beside production at the
kernel's lowest priority (SCHED_IDLE: it runs only on a core nothing else wants, and any
other process preempts it at once). It takes no CPU time from production, so what it
costs production is the host's floor for any work running at the same moment on the
other core (shared caches and memory bandwidth, or a hypervisor's sibling threads): the
fast candidate scores each mirrored request at the same moment production does.
Needs nginx and wrk (apt-get install nginx wrk). Shared host: note the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from server_latency import Figures, _free_port, _record, _wrk, _wrk_script

from harness.config import ShadowSpec
from harness.deploy.router import Mirror, NginxRouter
from harness.processes import wait_ready

IDLE_LOOP = "off, idle-priority loop beside"
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"


@contextmanager
def _server(config: Path, artifact: Path, latency_ms: float = 0,
            nice: int = 0) -> Iterator[tuple[int, int]]:
    """A generic server on a free loopback port, at CPU priority ``nice``: (port, pid)."""
    port = _free_port()
    env = {**os.environ, "HARNESS_INJECT_LATENCY_MS": f"{latency_ms:g}",
           "HARNESS_INJECT_ERROR_RATE": "0"}
    niced = ["nice", "-n", str(nice)] if nice else []  # as the local target runs a shadow
    process = subprocess.Popen([*niced, sys.executable, "-m", "harness", "--config",
                                str(config), "serve", "--artifact", str(artifact),
                                "--port", str(port)], env=env)
    try:
        problem = wait_ready(f"http://127.0.0.1:{port}/ready", 60, process.pid)
        if problem is not None:
            raise SystemExit(f"a server did not start: {problem}")
        yield port, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def _idle_busy_loop() -> Iterator[None]:
    """A busy loop at SCHED_IDLE for the ``with`` block."""
    code = ("import os\n"
            "os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))\n"
            "while True: pass")
    loop = subprocess.Popen([sys.executable, "-c", code])
    try:
        yield
    finally:
        loop.kill()
        loop.wait()


def _median(runs: list[Figures], label: str) -> Figures:
    return Figures(label, statistics.median(r.rps for r in runs),
                   statistics.median(r.p50_ms for r in runs),
                   statistics.median(r.p99_ms for r in runs), sum(r.requests for r in runs),
                   sum(r.errors for r in runs),
                   statistics.median(r.cpu_ms_per_request for r in runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=EXAMPLE / "harness.yaml")
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--rate", type=float, default=100, help="paced requests/s")
    parser.add_argument("--seconds", type=float, default=5, help="per phase")
    parser.add_argument("--rounds", type=int, default=6,
                        help="more, shorter rounds: the host drifts between phases")
    parser.add_argument("--timeout-ms", type=int, default=200, help="the mirror's timeout")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--nice", type=int, default=ShadowSpec().nice,
                        help="run the candidates at this CPU niceness (0: as production; "
                             "default: release.shadow.nice's default)")
    args = parser.parse_args()
    config, artifact = args.config.resolve(), args.artifact.resolve()
    # The folder outlives the stack: nginx is stopped (its pid file read) before it goes.
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        folder = Path(tmp)
        production, production_pid = stack.enter_context(_server(config, artifact))
        fast, _ = stack.enter_context(_server(config, artifact, nice=args.nice))
        router = NginxRouter("bench", folder / "router", "127.0.0.1", _free_port())
        stack.callback(router.stop)
        router.route(production, 1)
        url = f"http://127.0.0.1:{router.port}/predict"
        record = _record(config)
        flat = _wrk_script(folder, record, None)
        paced = _wrk_script(folder, record, max(args.connections * 1000 / args.rate - 1, 0))

        def run(label: str, mirror: Mirror | None, script: Path = paced,
                connections: int = args.connections) -> Figures:
            router.route(production, 1, mirror)
            with _idle_busy_loop() if label.startswith(IDLE_LOOP) else nullcontext():
                return _wrk(url, script, connections, args.seconds, production_pid, label)

        run("warm-up", Mirror(fast, args.timeout_ms), flat, 2)
        off_first = run("off", None)
        slow_ms = 10 * off_first.p50_ms
        slow, _ = stack.enter_context(_server(config, artifact, slow_ms, args.nice))
        phases: dict[str, list[Figures]] = {"off": [off_first], "on, fast": [], "on, slow": [],
                                            IDLE_LOOP: []}
        mirrors = {"off": None, "on, fast": Mirror(fast, args.timeout_ms),
                   "on, slow": Mirror(slow, args.timeout_ms), IDLE_LOOP: None}
        for round_ in range(args.rounds):
            for name, mirror in mirrors.items():
                if round_ == 0 and name == "off":
                    continue
                phases[name].append(run(f"{name} (round {round_ + 1})", mirror))
        flat_off = run("flat out, off", None, flat, 2)
        flat_on = run("flat out, on, fast", Mirror(fast, args.timeout_ms), flat, 2)
        router.route(production, 1)

    print(f"POST /predict through nginx, {config.parent.name} model, paced to ~{args.rate:g}/s "
          f"({args.connections} connections), {args.seconds:g} s per phase, {args.rounds} "
          f"rounds; mirror timeout {args.timeout_ms} ms; slow candidate +{slow_ms:.1f} ms "
          f"(10x production's p50 with the mirror off); candidates at nice {args.nice}; "
          f"{os.cpu_count()} cores, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"  {'phase':<34}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'requests':>9}"
          f"{'errors':>7}{'CPU ms/req':>12}")
    for runs in phases.values():
        for figures in runs:
            print(figures.line())
    medians = {name: _median(runs, f"median, {name}") for name, runs in phases.items()}
    for figures in medians.values():
        print(figures.line())
    print(flat_off.line())
    print(flat_on.line())
    off, on, slowed = medians["off"], medians["on, fast"], medians["on, slow"]
    print(f"mirror on (fast candidate) / off: p50 {on.p50_ms / off.p50_ms:.2f}x, "
          f"p99 {on.p99_ms / off.p99_ms:.2f}x, throughput {on.rps / off.rps:.2f}x "
          "(goal: p50 and p99 within 1.10x, throughput at least 0.90x)")
    floor = medians[IDLE_LOOP]
    print(f"the host's floor, a SCHED_IDLE busy loop beside production / off: p50 "
          f"{floor.p50_ms / off.p50_ms:.2f}x, p99 {floor.p99_ms / off.p99_ms:.2f}x (what any "
          "work at the same moment on the other core costs production, whatever its priority)")
    bound = off.p99_ms + args.timeout_ms
    print(f"mirror on (slow candidate): p99 {slowed.p99_ms:.1f} ms against the bound "
          f"{bound:.1f} ms (p99 off + mirror timeout): "
          f"{'within' if slowed.p99_ms <= bound else 'BEYOND'}")
    print(f"flat out (CPU-bound: the candidate scores on the same cores): throughput "
          f"{flat_on.rps / flat_off.rps:.2f}x, p99 {flat_on.p99_ms / flat_off.p99_ms:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
