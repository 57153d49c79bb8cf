"""Where the server scores a request's records: on the event loop, or in a worker thread."""

from __future__ import annotations

import logging

log = logging.getLogger("harness.server")

# Blocking the loop this long per request delays /health no more than network jitter does.
DEFAULT_INLINE_LIMIT_S = 0.005


class ScoringPlace:
    """A moving average of the time a record takes to score, and where that sends the next.

    A fast model costs least scored on the event loop: in a worker thread it waits for
    the GIL behind the loop, and that handover doubled the CPU per request of the
    reference model. But nothing else is answered while the loop scores, ``/health``
    included, so records expected to take longer than ``inline_limit_s`` go to a thread.
    """

    def __init__(self, name: str, inline_limit_s: float = DEFAULT_INLINE_LIMIT_S,
                 weight: float = 0.1) -> None:
        self.name = name
        self.inline_limit_s = inline_limit_s
        self.weight = weight
        self.per_record_s: float | None = None

    def inline(self, records: int = 1) -> bool:
        """Score ``records`` on the event loop. Before a first timing, one record is."""
        if self.per_record_s is None:
            return records == 1
        return self.per_record_s * records <= self.inline_limit_s

    def add(self, seconds: float, records: int = 1) -> None:
        """Count ``records`` scored in ``seconds``. Called from worker threads too: a lost
        update under a race only leaves the average a sample behind."""
        was_inline = self.inline()
        sample = seconds / records
        if self.per_record_s is None:
            self.per_record_s = sample
        else:
            self.per_record_s += self.weight * (sample - self.per_record_s)
        if self.inline() != was_inline:
            log.info("%s: %.2f ms a record on average, %s the %.0f ms the event loop may "
                     "spend: scored %s", self.name, self.per_record_s * 1000,
                     "within" if self.inline() else "over", self.inline_limit_s * 1000,
                     "on the event loop" if self.inline() else "in worker threads")
