"""The history store's tables, as SQLAlchemy Core sees them at the newest migration."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

runs = Table(
    "runs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", String(32), nullable=False, index=True),
    Column("project", String(200), nullable=False),
    Column("profile", String(100), nullable=False, index=True),
    Column("candidate_id", String(100), nullable=False),
    Column("model_sha256", String(64), nullable=False),
    Column("config_sha256", String(64), nullable=False),
    Column("golden_sha256", Text, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("tests", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("errors", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
)

run_metrics = Table(
    "run_metrics", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("gate", String(300), nullable=False),
    Column("dataset", String(200), nullable=False),
    Column("segment", String(200), nullable=False),
    Column("metric", String(100), nullable=False),
    Column("value", Float),
    Column("ci_low", Float),
    Column("ci_high", Float),
    Column("baseline", String(100)),
    Column("baseline_value", Float),
    Column("status", String(16), nullable=False),
)

passports = Table(
    "passports", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", String(32), nullable=False),
    Column("dataset", String(200), nullable=False),
    Column("number", Integer, nullable=False),
    Column("golden_manifest_sha256", String(64), nullable=False),
    Column("model_sha256", String(64), nullable=False),
    Column("blessed_by", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("metrics_json", Text, nullable=False),
)

evidence = Table(
    "evidence", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", String(32), nullable=False),
    Column("candidate_id", String(100), nullable=False, index=True),
    Column("environment", String(100), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("bundle_sha256", String(64), nullable=False),
    Column("path", Text, nullable=False),
    Column("run_id", Integer),
)

audit = Table(
    "audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(100), nullable=False),
    Column("candidate_id", String(100), nullable=False),
    Column("evidence_sha256", String(64)),
    Column("outcome", String(32), nullable=False),
    Column("detail", Text, nullable=False),
)

locks = Table(
    "locks", metadata,
    Column("name", String(100), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", String(32), nullable=False),
    Column("journal", Text, nullable=False),
)
