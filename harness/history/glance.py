"""Read-only glances at the history for ``harness status``, which runs in every Jenkins
stage and should answer at once: whether there is a store, the promotion lock, the newest
audit entry of an action.

A SQLite store at the newest schema is read with the standard library's sqlite3, opened
read-only: importing SQLAlchemy alone costs about 0.2 s, a third of the command. Any other
store (PostgreSQL, an older SQLite schema that opening migrates, a file sqlite3 cannot read)
goes through ``HistoryStore``, which also says what is wrong with it, so the two ways agree
on every answer and only one of them words the errors.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from harness.history.records import SCHEMA_HEAD, AuditEntry, LockHolder

if TYPE_CHECKING:
    from harness.history.store import HistoryStore

T = TypeVar("T")
_SQLITE = "sqlite:///"
_READ_WAIT_S = 5  # a writer holds SQLite's lock only while it commits


def history_exists(url: str) -> bool:
    """Whether there may be a history at ``url``: a server's database is assumed to exist;
    a SQLite file must, so a read-only command does not create one."""
    path = _sqlite_file(url)
    return path is None or path.is_file()


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (its options aside); None for a server or memory."""
    if not url.startswith(_SQLITE) or url.startswith(_SQLITE + ":memory:"):
        return None
    return Path(url.removeprefix(_SQLITE).split("?")[0])


def _read_only(path: Path) -> sqlite3.Connection | None:
    """The SQLite store at ``path`` opened read-only if it is at the newest schema; None
    when it is anything else."""
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                     timeout=_READ_WAIT_S)
    except sqlite3.Error:
        return None
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:  # not a database, or no version table
        row = None
    if row is None or row[0] != SCHEMA_HEAD:
        connection.close()
        return None
    return connection


def glance(url: str, fast: Callable[[sqlite3.Connection], T],
           read: Callable[[HistoryStore], T], unknown: str) -> T | str | None:
    """``fast`` on a SQLite store at the newest schema, else ``read`` on the store as
    ``read_existing`` opens it: None where there is no store, ``unknown`` and the reason
    when it cannot be opened."""
    if not history_exists(url):
        return None
    path = _sqlite_file(url)
    connection = _read_only(path) if path is not None else None
    if connection is not None:
        try:
            return fast(connection)
        except sqlite3.Error:
            pass  # locked past the wait, a damaged table: the store says what it is
        finally:
            connection.close()
    from harness.history.store import read_existing

    return read_existing(url, read, unknown)


def lock_holder(url: str, name: str, unknown: str) -> LockHolder | str | None:
    """Who holds the lock ``name`` and its journal; None when nobody does."""
    def fast(connection: sqlite3.Connection) -> LockHolder | None:
        row = connection.execute("SELECT holder, host, pid, acquired_at, journal FROM locks "
                                 "WHERE name = ?", (name,)).fetchone()
        return LockHolder.from_row(*row) if row else None

    def read(store: HistoryStore) -> LockHolder | None:
        from harness.history.release import Lock

        return Lock(store, name, "status").read()

    return glance(url, fast, read, unknown)


def newest_audit(url: str, action: str, detail_prefix: str,
                 unknown: str) -> AuditEntry | str | None:
    """The newest audit entry of ``action`` whose detail starts with ``detail_prefix``."""
    def fast(connection: sqlite3.Connection) -> AuditEntry | None:
        row = connection.execute(
            "SELECT id, at, actor, action, candidate_id, evidence_sha256, outcome, detail "
            "FROM audit WHERE action = ? AND substr(detail, 1, ?) = ? ORDER BY id DESC LIMIT 1",
            (action, len(detail_prefix), detail_prefix)).fetchone()
        return AuditEntry(*row) if row else None

    def read(store: HistoryStore) -> AuditEntry | None:
        from harness.history.release import latest_audit

        return latest_audit(store, action, detail_prefix)

    return glance(url, fast, read, unknown)
