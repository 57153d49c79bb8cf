"""The load generator's own CPU, sampled once a second by the master (or a local runner)
and written to ``$HARNESS_LOAD_CPU`` as JSON, so the verdict can tell a slow service from
a starved generator. Loaded by Locust next to the scenario's locustfile (``-f a.py,b.py``),
so a team's own locustfile is measured too; like it, never imported by the harness.

Each sample holds the percent of one core Locust itself measured (``psutil``) for the
master and for every worker, which reports it in its heartbeat.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import gevent
import locust.runners
from locust import events
from locust.runners import MasterRunner, WorkerRunner

CPU_ENV = "HARNESS_LOAD_CPU"
SAMPLE_S = 1.0

# Locust measures its CPU every 10 s by default: a 10 s run would give one sample.
locust.runners.CPU_MONITOR_INTERVAL = SAMPLE_S

_SAMPLES: list[dict[str, Any]] = []


def _write(path: str) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"threshold": locust.runners.CPU_WARNING_THRESHOLD, "samples": _SAMPLES}, handle)
    os.replace(tmp, path)  # a reader never sees half a file


def _sample(runner: Any, path: str) -> None:
    first = True
    while True:
        gevent.sleep(SAMPLE_S)
        if runner.user_count <= 0:  # before the ramp and after the stop: no load to judge
            continue
        if first:  # psutil's first reading of a process is 0.0, not a measure
            first = False
            continue
        processes = {"master": float(runner.current_cpu_usage)}
        if isinstance(runner, MasterRunner):
            for node_id, client in runner.clients.items():
                processes[f"worker {node_id}"] = float(client.cpu_usage)
        _SAMPLES.append({"t": round(time.time(), 3), "users": runner.user_count,
                         "cpu": processes})
        _write(path)


@events.init.add_listener
def _start(environment: Any, **_: Any) -> None:
    path = os.environ.get(CPU_ENV)
    if not path or environment.runner is None or isinstance(environment.runner, WorkerRunner):
        return  # a worker's CPU reaches the master in its heartbeat
    gevent.spawn(_sample, environment.runner, path)
