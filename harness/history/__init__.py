"""Run history: every run and every passport, in a store behind a SQLAlchemy URL.

The store (and SQLAlchemy) is imported on first use (PEP 562): ``harness status`` reads a
SQLite store without it (glance.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harness.history.glance import history_exists
from harness.history.records import MetricRecord, PassportRecord, RunMetric, RunRecord, StoredRun

__all__ = ["HistoryStore", "MetricRecord", "PassportRecord", "RunMetric", "RunRecord",
           "StoredRun", "history_exists"]

if TYPE_CHECKING:
    from harness.history.store import HistoryStore


def __getattr__(name: str) -> Any:
    if name == "HistoryStore":
        return importlib.import_module("harness.history.store").HistoryStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
