"""Deliberate slowness, failures and noise on the predict endpoints, for testing load gates
and a shadow's noise floor."""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from dataclasses import dataclass, field

from fastapi import HTTPException

LATENCY_ENV = "HARNESS_INJECT_LATENCY_MS"
ERROR_RATE_ENV = "HARNESS_INJECT_ERROR_RATE"
SCORE_JITTER_ENV = "HARNESS_INJECT_SCORE_JITTER"


def _env_float(name: str) -> float:
    raw = os.environ.get(name) or "0"
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None


@dataclass
class FaultInjection:
    """``latency_ms`` added to every prediction; a share ``error_rate`` of them answer 500;
    ``score_jitter``: uniform noise in [-jitter, jitter] added to every score before its
    label is read (a model whose answers vary from run to run)."""

    latency_ms: float = 0.0
    error_rate: float = 0.0
    seed: int = 0
    score_jitter: float = 0.0
    _rng: random.Random = field(init=False, repr=False)
    # Its own generator, seeded apart in every process: two copies of one model, given the
    # same requests in the same order, must not draw the same noise (the error rate's
    # generator is seeded the same everywhere, so that a run is repeatable).
    _jitter_rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.latency_ms < 0:
            raise ValueError(f"{LATENCY_ENV} must be >= 0, got {self.latency_ms}")
        if not 0.0 <= self.error_rate <= 1.0:
            raise ValueError(f"{ERROR_RATE_ENV} must be in 0..1, got {self.error_rate}")
        if not 0.0 <= self.score_jitter <= 1.0:
            raise ValueError(f"{SCORE_JITTER_ENV} must be in 0..1, got {self.score_jitter}")
        self._rng = random.Random(self.seed)
        self._jitter_rng = random.Random(secrets.randbits(64))

    @classmethod
    def from_env(cls) -> FaultInjection:
        return cls(latency_ms=_env_float(LATENCY_ENV), error_rate=_env_float(ERROR_RATE_ENV),
                   score_jitter=_env_float(SCORE_JITTER_ENV))

    def jittered(self, scores: list[float]) -> list[float]:
        """``scores`` (probabilities) each moved by uniform noise of at most
        ``score_jitter``, kept in [0, 1]."""
        with self._lock:
            noise = [self._jitter_rng.uniform(-self.score_jitter, self.score_jitter)
                     for _ in scores]
        return [min(max(score + step, 0.0), 1.0) for score, step in zip(scores, noise,
                                                                        strict=True)]

    def apply(self) -> None:
        if self.latency_ms:
            time.sleep(self.latency_ms / 1000)
        if self.error_rate:
            with self._lock:
                fail = self._rng.random() < self.error_rate
            if fail:
                raise HTTPException(status_code=500, detail="injected fault")
