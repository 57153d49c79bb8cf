"""What ``harness status`` reads of the history: the same answers whether a SQLite store at
the newest schema is read with sqlite3 or any store through ``HistoryStore``, and the store's
own refusals where the glance cannot read."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from harness.errors import HistorySchemaError
from harness.history import HistoryStore
from harness.history.glance import lock_holder, newest_audit
from harness.history.release import Lock, append_audit, latest_audit

UNKNOWN = "cannot tell"
# Prefixes with LIKE's wildcards and a non-ASCII character: matched as text, not patterns.
DETAILS = ["production: hotfix", "production: second", "prod%ction: no", "production_x: no",
           "staging: other", "zürich: é"]


def _filled(url: str) -> HistoryStore:
    store = HistoryStore(url)
    for detail in DETAILS:
        append_audit(store, "ana", "break-glass", "c1", "done", detail)
    append_audit(store, "ana", "promote", "c2", "done", "production: promoted",
                 evidence_sha256="e" * 64)
    Lock(store, "promotion", "ana").acquire({"candidate": "c2", "phase": "switch"})
    return store


@pytest.mark.parametrize("prefix", ["production: ", "prod%ction: ", "production_", "zürich: ",
                                    "", "nowhere: "])
def test_the_newest_audit_entry_is_the_stores_answer(url: str, prefix: str) -> None:
    store = _filled(url)
    for action in ("break-glass", "promote", "rollback"):
        assert newest_audit(url, action, prefix, UNKNOWN) == latest_audit(store, action, prefix)
    store.close()


def test_the_lock_is_the_stores_answer(url: str) -> None:
    store = _filled(url)
    held = lock_holder(url, "promotion", UNKNOWN)
    assert held == Lock(store, "promotion", "status").read()
    assert held is not None and held.journal == {"candidate": "c2", "phase": "switch"}
    assert lock_holder(url, "nosuch", UNKNOWN) is None
    store.close()


def test_no_store_is_no_answer_and_none_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/none/history.db"
    assert lock_holder(url, "promotion", UNKNOWN) is None
    assert newest_audit(url, "break-glass", "", UNKNOWN) is None
    assert not (tmp_path / "none").exists()


def test_a_file_that_is_no_database_is_reported_unknown(tmp_path: Path) -> None:
    (tmp_path / "history.db").write_bytes(b"not a database" * 100)
    url = f"sqlite:///{tmp_path}/history.db"
    found = lock_holder(url, "promotion", UNKNOWN)
    assert isinstance(found, str) and found.startswith(f"{UNKNOWN}: ")


def test_a_store_from_a_newer_harness_is_refused(url: str) -> None:
    _filled(url).close()
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(HistorySchemaError):
        lock_holder(url, "promotion", UNKNOWN)


def test_a_sqlite_store_at_the_newest_schema_is_read_without_sqlalchemy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/history.db"
    _filled(url).close()
    probe = ("import sys, json\n"
             "from harness.history.glance import lock_holder, newest_audit\n"
             f"held = lock_holder({url!r}, 'promotion', '')\n"
             f"entry = newest_audit({url!r}, 'break-glass', 'production: ', '')\n"
             "print(json.dumps([held.holder, entry.detail, 'sqlalchemy' in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    assert json.loads(out) == ["ana", "production: second", False]
