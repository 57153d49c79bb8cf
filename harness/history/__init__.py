"""Run history: every run and every passport, in a store behind a SQLAlchemy URL."""

from harness.history.store import HistoryStore, MetricRecord, RunRecord, history_exists

__all__ = ["HistoryStore", "MetricRecord", "RunRecord", "history_exists"]
