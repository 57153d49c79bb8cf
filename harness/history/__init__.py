"""Run history: every run and every passport, in a store behind a SQLAlchemy URL."""

from harness.history.records import MetricRecord, PassportRecord, RunMetric, RunRecord, StoredRun
from harness.history.store import HistoryStore, history_exists

__all__ = ["HistoryStore", "MetricRecord", "PassportRecord", "RunMetric", "RunRecord",
           "StoredRun", "history_exists"]
