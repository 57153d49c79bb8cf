"""Where the server scores a single record: on the event loop, or in a worker thread."""

from __future__ import annotations

import logging

log = logging.getLogger("harness.server")

# Blocking the loop this long per request delays /health no more than network jitter does.
DEFAULT_INLINE_LIMIT_S = 0.005


class ScoringPlace:
    """A moving average of the time one record takes to score, and what it implies.

    A fast model costs least scored on the event loop: in a worker thread it waits for
    the GIL behind the loop, and that handover doubled the CPU per request of the
    reference model. But nothing else is answered while the loop scores, ``/health``
    included, so a model slower than ``inline_limit_s`` on average goes to a thread.
    """

    def __init__(self, inline_limit_s: float = DEFAULT_INLINE_LIMIT_S,
                 weight: float = 0.1) -> None:
        self.inline_limit_s = inline_limit_s
        self.weight = weight
        self.mean_s: float | None = None

    @property
    def inline(self) -> bool:
        """Score the next record on the event loop (until a first timing, yes)."""
        return self.mean_s is None or self.mean_s <= self.inline_limit_s

    def add(self, seconds: float) -> None:
        """Count one record's scoring time. Called from worker threads too: a lost update
        under a race only leaves the average a sample behind."""
        was_inline = self.inline
        if self.mean_s is None:
            self.mean_s = seconds
        else:
            self.mean_s += self.weight * (seconds - self.mean_s)
        if self.inline != was_inline:
            log.info("single records are now scored %s (%.1f ms a record on average)",
                     "on the event loop" if self.inline else "in a worker thread",
                     self.mean_s * 1000)
