"""A bounded load for deploys: threads asking a URL over and over, each answer timed.

What a deploy under load must show is whether any request failed and the longest time
the service went without answering; a loop of plain requests records both exactly.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Self

import httpx


@dataclass
class LoadLog:
    """Every answer (monotonic time, status, digest served) and every failure."""

    answers: list[tuple[float, int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def longest_gap_s(self) -> float:
        times = sorted(t for t, _, _ in self.answers)
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)

    def digests(self) -> list[str]:
        """The artifact digests served, in the order they were first seen."""
        seen: list[str] = []
        for _, _, digest in sorted(self.answers):
            if not seen or seen[-1] != digest:
                seen.append(digest)
        return seen


class LoadLoop:
    """``users`` threads GETting ``url`` (``/version``) until stopped."""

    def __init__(self, url: str, users: int = 4) -> None:
        self.url, self.users, self.log = url, users, LoadLog()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(users)]

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        self._answered_after(0)  # the window starts with an answer, so no gap hides before it
        return self

    def __exit__(self, *exc: object) -> None:
        self._answered_after(len(self.log.answers))  # and ends with one
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _answered_after(self, count: int, timeout_s: float = 30.0) -> None:
        """Wait until more than ``count`` answers came (bounded: a dead service never answers)."""
        deadline = time.monotonic() + timeout_s
        while len(self.log.answers) <= count and time.monotonic() < deadline:
            time.sleep(0.01)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    response = client.get(self.url)
                    now = time.monotonic()
                    digest = response.json().get("artifact_sha256", "") \
                        if response.status_code == 200 else ""
                    with self.log.lock:
                        if response.status_code == 200:
                            self.log.answers.append((now, 200, digest))
                        else:
                            self.log.failures.append(f"{response.status_code}")
                except (httpx.HTTPError, ValueError) as exc:
                    with self.log.lock:
                        self.log.failures.append(f"{type(exc).__name__}: {exc}")
