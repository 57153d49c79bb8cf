"""The objects the server holds for its whole life, kept out of the garbage collector's way.

The model, its libraries and the app are hundreds of thousands of objects that live as long
as the process. Python's full (oldest-generation) collection walks all of them: with the
reference model that is a 90-180 ms pause, about once every 15 s at 200 requests/s, and
every request in flight waits for it (wrk paced at 200/s beside a busy process: p99 27-33
ms with it, 19-20 ms without; docs/performance.md). ``gc.freeze`` moves them to a
generation the collector never visits, so its passes walk only what requests allocate.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger("harness.server")


def freeze_long_lived() -> int:
    """Collect what is garbage already, then exempt every object alive now from later
    collections; the number exempted. Call once, when the model is loaded: what is
    frozen is never freed, so a process that keeps loading (a test session) should not."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("%d long-lived objects exempted from garbage collection", frozen)
    return frozen
