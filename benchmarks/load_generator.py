"""Benchmark: the harness's load generator (Locust, as `harness check` runs it) against `wrk`,
on the same trivial loopback endpoint in one run, then the reference service at a fixed load.

    .venv/bin/python benchmarks/load_generator.py [--seconds 10] [--users 10]

Prints requests per second and CPU seconds of each generator (its processes only), CPU
microseconds per request, and their ratio: the generator's overhead, to track over time.
Locust's figure is also given at the margin — (CPU of a full run minus CPU of a 2 s run)
over the extra requests — which takes out its processes' start-up cost.
Needs `wrk` (Debian: apt-get install -y wrk). Figures on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "credit"
sys.path[:0] = [str(ROOT), str(EXAMPLE)]  # the credit model's code, as a team's

from harness.config import load_config
from harness.load.runner import run_load
from tests.support.service_process import free_port, running_service

_ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


def _trivial_server(port: int) -> None:
    """Answer every request on a keep-alive connection with 200 'ok': as cheap as HTTP gets."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                writer.write(_ANSWER)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _config(folder: Path, url: str, users: int, seconds: float, workers: int,
            health_only: bool, artifact: str = "artifacts/credit") -> Path:
    data = yaml.safe_load((EXAMPLE / "harness.yaml").read_text())
    data["model"].update(url=url, artifact=artifact)
    data["golden"] = [{"name": g["name"], "path": str(EXAMPLE / g["path"])}
                      for g in data["golden"]]
    data["training"] = None
    data["profiles"] = {"load": {"checks": ["load"]}}
    data["load"].update(users=users,
                        spawn_rate=max(users, 1), run_time_s=seconds, max_requests=10_000_000,
                        workers=workers)
    if health_only:
        data["load"]["scenario"].update(predict=0, predict_batch=0, health=1)
    path = folder / f"harness-{'trivial' if health_only else 'service'}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _locust(config: Path, out: Path):
    cpu, started = _children_cpu(), time.monotonic()
    results = run_load(load_config(config), out)
    return results, _children_cpu() - cpu, time.monotonic() - started


def _wrk(url: str, users: int, seconds: float) -> tuple[float, int, float]:
    cpu = _children_cpu()
    out = subprocess.run(["wrk", "-t1", f"-c{users}", f"-d{int(seconds)}s", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return rps, total, _children_cpu() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--users", type=int, default=10, help="connections / Locust users")
    parser.add_argument("--workers", type=int, default=1, help="Locust worker processes")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        port = free_port()
        server = multiprocessing.Process(target=_trivial_server, args=(port,), daemon=True)
        server.start()
        time.sleep(0.5)
        url = f"http://127.0.0.1:{port}"
        try:
            wrk_rps, wrk_total, wrk_cpu = _wrk(f"{url}/health", args.users, args.seconds)
            results, locust_cpu, wall = _locust(
                _config(folder, url, args.users, args.seconds, args.workers, True),
                folder / "trivial")
            short, short_cpu, _ = _locust(
                _config(folder, url, args.users, 2, args.workers, True), folder / "short")
        finally:
            server.terminate()
        overall = results.endpoints["overall"]
        locust_us = locust_cpu / overall.requests * 1e6
        wrk_us = wrk_cpu / wrk_total * 1e6
        print(f"trivial endpoint on loopback, {args.users} connections/users, "
              f"{args.seconds:g}s each")
        print(f"  {'generator':<28}{'req/s':>10}{'requests':>10}{'CPU s':>8}{'CPU us/req':>12}")
        print(f"  {'wrk -t1':<28}{wrk_rps:>10.0f}{wrk_total:>10}{wrk_cpu:>8.2f}{wrk_us:>12.1f}")
        name = f"harness Locust (1 master+{args.workers}w)"
        print(f"  {name:<28}{overall.rps:>10.0f}{overall.requests:>10}{locust_cpu:>8.2f}"
              f"{locust_us:>12.1f}")
        extra = overall.requests - short.endpoints["overall"].requests
        marginal_us = (locust_cpu - short_cpu) / extra * 1e6 if extra > 0 else float("nan")
        print(f"  {'Locust, at the margin':<28}{'':>10}{extra:>10}{locust_cpu - short_cpu:>8.2f}"
              f"{marginal_us:>12.1f}")
        print(f"  overhead ratio (CPU per request, Locust / wrk): {locust_us / wrk_us:.1f}x "
              f"whole run, {marginal_us / wrk_us:.1f}x at the margin; "
              f"throughput ratio (wrk / Locust): {wrk_rps / max(overall.rps, 1e-9):.1f}x")
        print(f"  (Locust wall time including start-up: {wall:.1f}s; failures: "
              f"{overall.failures})")

        artifact = EXAMPLE / "artifacts/credit"
        if not (artifact / "model.joblib").exists():
            from credit_model.train import train
            artifact = train(EXAMPLE / "fixtures/credit/train.csv", folder / "model", seed=0)
        with running_service(artifact) as service:
            results, _, _ = _locust(
                _config(folder, service, args.users, args.seconds, args.workers, False,
                        str(artifact)),
                folder / "service")
        print(f"reference service at a fixed load: {args.users} users, no think time, "
              f"{args.seconds:g}s, scenario from harness.yaml")
        for name, stats in sorted(results.endpoints.items()):
            print(f"  {name:<16} {stats.rps:>7.1f} req/s  p50 {stats.p50_ms:>5.0f} ms  "
                  f"p99 {stats.p99_ms:>5.0f} ms  errors {stats.error_ratio:.4f}  "
                  f"({stats.requests} requests)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
