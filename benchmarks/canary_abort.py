"""How fast an aborted canary stops receiving requests: from the abort's start (the moment
the step's judge decided) to the last request the canary received, under traffic.

    .venv/bin/python benchmarks/canary_abort.py --artifact ARTIFACT [--rounds 10]
        [--threads 4] [--percent 50] [--config examples/credit/harness.yaml]

Two generic servers on the same model behind the harness's nginx router
(harness/deploy/router.py): stable, and a canary given ``--percent`` of the predict
requests by ``split_clients``. ``--threads`` clients send single-record ``POST /predict``
requests through nginx without pause. Each round gives the canary its share for a second,
then aborts (``route`` without the split, as ``harness canary`` does) and prints:

- the abort's own time: until an answer shows the new configuration and every old nginx
  worker, the only ones that could still route to the canary, has exited;
- the last request the canary logged after the abort started (its prediction log's
  ``at``, the time its answer was sent), measured from that start;
- requests a client *sent* after the abort returned that the canary answered (must be 0).

The goal is 1 s. Needs nginx. Shared host: note the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from shadow_mirror import EXAMPLE, _server

from harness.deploy.router import ARM_HEADER, NginxRouter, Split, free_loopback_port

APPLICATION = {"Seniority": 9, "Home": "rent", "Time": 60, "Age": 30, "Marital": "married",
               "Records": "no", "Job": "freelance", "Expenses": 73, "Income": 129.0,
               "Assets": 0.0, "Debt": 0.0, "Amount": 800, "Price": 846}


def _traffic(url: str, stop: threading.Event, sent: list[tuple[float, str]]) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            started = time.time()
            try:
                arm = client.post(f"{url}/predict", json=APPLICATION).headers.get(ARM_HEADER)
            except httpx.HTTPError:
                arm = "error"
            sent.append((started, arm or "none"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=EXAMPLE / "harness.yaml")
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--percent", type=float, default=50)
    args = parser.parse_args()
    print("$ .venv/bin/python benchmarks/canary_abort.py " + " ".join(sys.argv[1:]))
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}")
    with tempfile.TemporaryDirectory() as folder, \
            _server(args.config, args.artifact) as (stable, _), \
            _server(args.config, args.artifact) as (canary, _):
        router = NginxRouter("production", Path(folder) / "router", "127.0.0.1",
                             free_loopback_port())
        url = f"http://127.0.0.1:{router.port}"
        router.route(stable, 1)
        stop, sent = threading.Event(), []
        threads = [threading.Thread(target=_traffic, args=(url, stop, sent))
                   for _ in range(args.threads)]
        for thread in threads:
            thread.start()
        aborts, lasts, late = [], [], 0
        try:
            for number in range(1, args.rounds + 1):
                router.route(stable, 1, split=Split(canary, args.percent))
                time.sleep(1.0)
                started_wall, started = time.time(), time.monotonic()
                router.route(stable, 1)
                took = time.monotonic() - started
                returned = time.time()
                time.sleep(1.0)
                log = httpx.get(f"http://127.0.0.1:{canary}/predictions/log",
                                params={"limit": 10_000, "since": 0}).json()["records"]
                after = [r["at"] - started_wall for r in log if r["at"] >= started_wall]
                last = max(after, default=0.0)
                wrong = sum(1 for at, arm in list(sent) if at > returned and arm == "canary")
                late += wrong
                aborts.append(took)
                lasts.append(last)
                print(f"round {number}: abort took {took * 1000:.0f} ms; the canary's last "
                      f"request {last * 1000:.0f} ms after the abort started "
                      f"({len(after)} after it); sent after the abort and answered by the "
                      f"canary: {wrong}")
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            router.stop()
    print(f"\n{args.rounds} aborts under {args.threads} clients, {len(sent)} requests: abort "
          f"median {statistics.median(aborts) * 1000:.0f} ms, max {max(aborts) * 1000:.0f} "
          f"ms; last canary request median {statistics.median(lasts) * 1000:.0f} ms, max "
          f"{max(lasts) * 1000:.0f} ms after the abort started (goal <= 1000 ms); requests "
          f"sent after an abort and answered by the canary: {late}")
    print(f"load average {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} "
          f"{os.getloadavg()[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
