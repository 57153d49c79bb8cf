"""Deliberate slowness and failures on the predict endpoints, for testing load gates."""

from __future__ import annotations

import os
import random
import threading
import time
from dataclasses import dataclass, field

from fastapi import HTTPException

LATENCY_ENV = "HARNESS_INJECT_LATENCY_MS"
ERROR_RATE_ENV = "HARNESS_INJECT_ERROR_RATE"


def _env_float(name: str) -> float:
    raw = os.environ.get(name) or "0"
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass
class FaultInjection:
    """``latency_ms`` added to every prediction; a share ``error_rate`` of them answer 500."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    seed: int = 0
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"{LATENCY_ENV} must be >= 0, got {self.latency_ms}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"{ERROR_RATE_ENV} must be in 0..1, got {self.error_rate}")
        self._rng = random.Random(self.seed)

    @classmethod
    def from_env(cls) -> FaultInjection:
        return cls(latency_ms=_env_float(LATENCY_ENV), error_rate=_env_float(ERROR_RATE_ENV))

    def apply(self) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if self.error_rate:
            with self._lock:
                fail = self._rng.random() < self.error_rate
            if fail:
                raise HTTPException(status_code=500, detail="injected fault")
