"""Times as the harness writes them: UTC, ISO 8601, to the second (history, audit, deploy
state, evidence, attestations, lineage). Standard library only."""

from __future__ import annotations

import datetime as dt


def utc_now() -> str:
    """Now, e.g. ``2026-12-04T03:21:43+00:00``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
