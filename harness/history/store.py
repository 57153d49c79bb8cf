"""The history store: runs, their metrics and passports, behind a SQLAlchemy URL.

SQLite (the default, one file) and PostgreSQL (for several Jenkins agents) behave
the same. Opening a store migrates its schema to the newest version with Alembic,
under a lock, so two processes opening a new store at once do not race. Writes are
single transactions; SQLite takes its write lock when a transaction begins, so two
writers wait for each other instead of failing or losing a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, insert, inspect, make_url, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import NoSuchModuleError, SQLAlchemyError

from harness.errors import HarnessError, HistoryError, HistorySchemaError
from harness.history.glance import history_exists
from harness.history.records import (
    SCHEMA_HEAD,
    MetricRecord,
    PassportRecord,
    RunMetric,
    RunRecord,
    StoredRun,
)
from harness.history.schema import passports, run_metrics, runs
from harness.text import clip

T = TypeVar("T")

__all__ = ["HistoryError", "HistoryStore", "MetricRecord", "PassportRecord", "RunMetric",
           "RunRecord", "StoredRun", "history_exists"]

_MIGRATIONS = Path(__file__).parent / "migrations"
_SQLITE_BUSY_MS = 60_000
_PG_MIGRATION_LOCK = 0x6861726E  # any fixed key; "harn"


def _sqlite_begins_immediately(engine: Engine) -> None:
    # pysqlite would begin lazily and upgrade a read lock to a write lock later, which
    # fails at once under contention; BEGIN IMMEDIATE waits for the lock instead, as long
    # as the URL's ``timeout`` (seconds) says, else a minute.
    query_timeout = engine.url.query.get("timeout")
    busy_ms = int(float(query_timeout) * 1000) if isinstance(query_timeout, str) \
        else _SQLITE_BUSY_MS
    path = engine.url.database or ""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "handle_error")
    def _locked(context: Any) -> None:
        # Whatever the statement, a lock held past the wait has one cause and one remedy.
        if "database is locked" in str(context.original_exception):
            raise HistoryError(
                f"history store {path} stayed locked for {busy_ms / 1000:g}s: another "
                "process (another harness command, a Jenkins job on this agent) holds the "
                "SQLite file. Wait for it to finish and run again; for jobs that run at "
                "once, use PostgreSQL (history.url: postgresql+psycopg://USER@HOST/DB). "
                "Nothing was recorded in history"
            )


def _first_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


# A recorded metric with its run's id and time, in RunMetric's order.
_METRIC_COLUMNS = (
    runs.c.id.label("run_id"), runs.c.created_at, run_metrics.c.gate, run_metrics.c.dataset,
    run_metrics.c.segment, run_metrics.c.metric, run_metrics.c.value, run_metrics.c.ci_low,
    run_metrics.c.ci_high, run_metrics.c.baseline, run_metrics.c.baseline_value,
    run_metrics.c.status,
)


class HistoryStore:
    """Open (and migrate) the history at ``url``."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////:memory:"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = create_engine(url)
        except (NoSuchModuleError, ImportError) as exc:
            # An unknown dialect, or a known one whose driver is not installed (mysql://).
            raise HistoryError(
                f"history store {self._safe_url()} needs a database driver that is not "
                f"installed ({_first_line(exc)}); use sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DB in history.url ($HARNESS_HISTORY_URL), or "
                "install the driver"
            ) from None
        except SQLAlchemyError as exc:  # a URL SQLAlchemy cannot parse
            raise HistoryError(f"history store {self._safe_url()} is not a database URL "
                               f"({_first_line(exc)}); check history.url") from None
        if self.engine.dialect.name == "sqlite":
            try:
                _sqlite_begins_immediately(self.engine)
            except ValueError:
                raise HistoryError(f"history store {self._safe_url()}: its 'timeout' is not a "
                                   "number of seconds; check history.url") from None
        try:
            self._migrate()
        except SQLAlchemyError as exc:
            raise HistoryError(
                f"history store {self._safe_url()} cannot be opened: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}; check history.url"
            ) from None

    def _safe_url(self) -> str:
        try:
            return make_url(self.url).render_as_string(hide_password=True)
        except SQLAlchemyError:
            return repr(self.url)

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_HEAD:
            return
        from alembic import command
        from alembic.config import Config as AlembicConfig
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = AlembicConfig()
        config.set_main_option("script_location", str(_MIGRATIONS))
        known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
            current = MigrationContext.configure(connection).get_current_revision()
            if current is not None and current not in known:
                # A newer harness migrated this store (agents sharing one PostgreSQL store
                # upgrade at different times); this one must not read or write it.
                raise HistorySchemaError(
                    f"history store {self._safe_url()} has schema revision '{current}', which "
                    f"this harness does not know (it knows up to "
                    f"'{self.newest_schema_version()}'): a newer harness wrote it. Upgrade the "
                    "harness on this machine, or point history.url at another store"
                )
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def schema_version(self) -> str | None:
        """The store's revision as Alembic records it (None for a new store), read without
        Alembic."""
        with self.engine.connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    @staticmethod
    def newest_schema_version() -> str | None:
        from alembic.config import Config as AlembicConfig
        from alembic.script import ScriptDirectory

        config = AlembicConfig()
        config.set_main_option("script_location", str(_MIGRATIONS))
        return ScriptDirectory.from_config(config).get_current_head()

    def close(self) -> None:
        self.engine.dispose()

    def record_run(self, run: RunRecord) -> int:
        """Store a run and its metrics in one transaction; returns the run's id."""
        values = {
            "created_at": run.created_at, "project": run.project, "profile": run.profile,
            "candidate_id": run.candidate_id, "model_sha256": run.model_sha256,
            "config_sha256": run.config_sha256,
            "golden_sha256": json.dumps(run.golden_sha256, sort_keys=True),
            "verdict": run.verdict, "duration_s": run.duration_s, "tests": run.tests,
            "failures": run.failures, "errors": run.errors, "skipped": run.skipped,
        }
        with self._writing("the run"), self.engine.begin() as connection:
            run_id = connection.execute(insert(runs).values(**values)).inserted_primary_key[0]
            if run.metrics:
                connection.execute(insert(run_metrics), [
                    {"run_id": run_id, **m.__dict__} for m in run.metrics
                ])
        return int(run_id)

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """A write the database refused (a table gone, a disk full, a server gone away) as
        one refusal: the transaction rolled back, so nothing of it was recorded."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise HistoryError(
                f"history store {self._safe_url()} could not record {what} "
                f"({clip(_first_line(exc))}); nothing of it was recorded. Check the store "
                "(history.url) and run again") from None

    def runs(self, profile: str | None = None, limit: int = 20) -> list[StoredRun]:
        """The newest runs first, without their metrics."""
        query = select(runs).order_by(runs.c.id.desc()).limit(limit)
        if profile:
            query = query.where(runs.c.profile == profile)
        with self.engine.connect() as connection:
            return [StoredRun.from_row(row._mapping) for row in connection.execute(query)]

    def run(self, run_id: int) -> StoredRun:
        """One run with its metrics."""
        with self.engine.connect() as connection:
            row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
            if row is None:
                raise HistoryError(f"no run {run_id} in history {self._safe_url()}; "
                                   "`harness history` lists the runs")
            metrics = connection.execute(
                select(*_METRIC_COLUMNS).join(runs, run_metrics.c.run_id == runs.c.id)
                .where(run_metrics.c.run_id == run_id).order_by(run_metrics.c.id)
            )
            return StoredRun.from_row(row._mapping,
                                      [RunMetric(**m._mapping) for m in metrics])

    def metric_series(self, profile: str, dataset: str, metric: str, gate: str,
                      limit: int) -> list[tuple[int, float]]:
        """(run id, value) of one gate's metric over the newest ``limit`` runs, oldest first."""
        query = (
            select(runs.c.id, run_metrics.c.value)
            .join(run_metrics, run_metrics.c.run_id == runs.c.id)
            .where(runs.c.profile == profile, run_metrics.c.dataset == dataset,
                   run_metrics.c.metric == metric, run_metrics.c.gate == gate,
                   run_metrics.c.value.is_not(None))
            .order_by(runs.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as connection:
            return [(int(i), float(v)) for i, v in reversed(connection.execute(query).all())]

    def metric_rows(self, profile: str, runs_limit: int = 30,
                    gate_prefix: str = "") -> list[RunMetric]:
        """Every recorded metric of the newest ``runs_limit`` runs of a profile (whose gate
        starts with ``gate_prefix``), oldest run first, each row with its run's id and
        time: what trend plots are drawn from."""
        newest = (select(runs.c.id).where(runs.c.profile == profile)
                  .order_by(runs.c.id.desc()).limit(runs_limit).subquery())
        query = (
            select(*_METRIC_COLUMNS)
            .join(run_metrics, run_metrics.c.run_id == runs.c.id)
            .where(runs.c.id.in_(select(newest.c.id)),
                   run_metrics.c.gate.startswith(gate_prefix, autoescape=True))
            .order_by(runs.c.id, run_metrics.c.id)
        )
        with self.engine.connect() as connection:
            return [RunMetric(**row._mapping) for row in connection.execute(query)]

    def record_passport(self, dataset: str, number: int, golden_manifest_sha256: str,
                        model_sha256: str, blessed_by: str, reason: str, file_sha256: str,
                        metrics: dict[str, Any], created_at: str) -> int:
        with self._writing("the passport"), self.engine.begin() as connection:
            result = connection.execute(insert(passports).values(
                created_at=created_at, dataset=dataset, number=number,
                golden_manifest_sha256=golden_manifest_sha256, model_sha256=model_sha256,
                blessed_by=blessed_by, reason=reason, file_sha256=file_sha256,
                metrics_json=json.dumps(metrics, sort_keys=True),
            ))
            return int(result.inserted_primary_key[0])

    def record_passports(self, blessed: list[dict[str, Any]]) -> None:
        """Several passports (``record_passport``'s arguments each) in one transaction: a
        blessing is recorded whole or not at all."""
        with self._writing("the blessing"), self.engine.begin() as connection:
            for values in blessed:
                connection.execute(insert(passports).values(
                    **{k: v for k, v in values.items() if k != "metrics"},
                    metrics_json=json.dumps(values["metrics"], sort_keys=True)))

    def passports(self, dataset: str | None = None) -> list[PassportRecord]:
        query = select(passports).order_by(passports.c.id)
        if dataset:
            query = query.where(passports.c.dataset == dataset)
        with self.engine.connect() as connection:
            return [PassportRecord.from_row(row._mapping) for row in connection.execute(query)]


def read_existing(url: str, read: Callable[[HistoryStore], T], unknown: str) -> T | str | None:
    """``read(store)`` for a read-only report (``harness status``): None where there is no
    store (none is created), ``unknown`` with the reason when the store cannot be opened,
    and a store a newer harness wrote refused (``HistorySchemaError``) as every command
    refuses it."""
    if not history_exists(url):
        return None
    try:
        store = HistoryStore(url)
    except HistorySchemaError:
        raise
    except HarnessError as exc:
        return f"{unknown}: {exc}"
    try:
        return read(store)
    finally:
        store.close()
