"""Traffic for a shadow or canary without live traffic (``--replay-golden``): the harness's
Locust runner replaying golden rows, one row a request, at production's router on loopback,
bounded in requests and time."""

from __future__ import annotations

import threading
from pathlib import Path

from harness.config import HarnessConfig
from harness.errors import HarnessError
from harness.load.results import LoadResults


class ReplayTraffic:
    """The harness's Locust runner replaying golden rows at production's router, in a
    thread of its own; ``stop()`` ends it early."""

    def __init__(self, config: HarnessConfig, url: str, max_requests: int,
                 max_duration_s: float, out_dir: Path) -> None:
        load = config.load.model_copy(update={
            "url": url, "users": min(config.load.users, 8), "spawn_rate": 100.0,
            "run_time_s": max_duration_s, "max_requests": max_requests, "workers": 1,
            "remote_workers": 0, "master_bind": None, "slos": [],
            # Single rows only: a batch would be one request id for many rows.
            "scenario": config.load.scenario.model_copy(update={
                "predict": 1, "predict_batch": 0, "health": 0})})
        self._config = config.model_copy(update={"load": load})
        self._out_dir, self._url = out_dir, url
        self._stop = threading.Event()
        self.results: LoadResults | None = None
        self.error: HarnessError | None = None
        self._thread = threading.Thread(target=self._run, name="replay-golden", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from harness.load.runner import run_load

        try:
            self.results = run_load(self._config, self._out_dir, self._url, self._stop)
        except HarnessError as exc:
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
