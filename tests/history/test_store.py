"""The history store, the same tests on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

import multiprocessing
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from harness.errors import HistoryError
from harness.history import HistoryStore, MetricRecord, RunRecord
from harness.history.store import SCHEMA_HEAD


def _run(profile: str = "pr", auc: float = 0.83, writer: str = "") -> RunRecord:
    return RunRecord(
        project="credit", profile=profile, candidate_id=writer or "abc", model_sha256="m" * 64,
        config_sha256="c" * 64, golden_sha256={"credit-v1": "g" * 64}, verdict="passed",
        duration_s=1.5, tests=3, failures=0, errors=0, skipped=1,
        metrics=[MetricRecord("quality.credit-v1::roc_auc", "credit-v1", "overall", "roc_auc",
                              auc, "passed", auc - 0.02, auc + 0.02, "passport #1", 0.83)],
    )


def test_a_new_store_is_migrated_to_the_newest_schema(url: str) -> None:
    store = HistoryStore(url)
    assert store.schema_version() == HistoryStore.newest_schema_version() is not None
    # A store at the newest revision is opened without Alembic: SCHEMA_HEAD must be it.
    assert SCHEMA_HEAD == HistoryStore.newest_schema_version()
    store.close()
    reopened = HistoryStore(url)  # migrating again is a no-op
    assert reopened.runs() == []
    reopened.close()


def test_runs_and_metrics_round_trip(url: str) -> None:
    store = HistoryStore(url)
    first = store.record_run(_run(auc=0.83))
    second = store.record_run(_run(auc=0.81))
    store.record_run(_run(profile="nightly"))
    assert [r.id for r in store.runs(profile="pr")] == [second, first]
    assert all(r.metrics is None for r in store.runs()), "a listing leaves the metrics out"
    stored = store.run(second)
    assert stored.golden_sha256 == {"credit-v1": "g" * 64}
    assert stored.metrics is not None and stored.metrics[0].ci_low == pytest.approx(0.79)
    assert (stored.metrics[0].run_id, stored.metrics[0].created_at) == (second, stored.created_at)
    series = store.metric_series("pr", "credit-v1", "roc_auc", "quality.credit-v1::roc_auc", 5)
    assert series == [(first, 0.83), (second, 0.81)]
    with pytest.raises(HistoryError, match="no run 999"):
        store.run(999)
    store.close()


def test_passports_are_kept(url: str) -> None:
    store = HistoryStore(url)
    for number in (1, 2):
        store.record_passport("credit-v1", number, "g" * 64, "m" * 64, "ana", f"reason {number}",
                              "f" * 64, {"overall": {"roc_auc": {"value": 0.83}}}, "2026-11-25")
    recorded = store.passports("credit-v1")
    assert [p.number for p in recorded] == [1, 2]
    assert recorded[0].metrics == {"overall": {"roc_auc": {"value": 0.83}}}
    store.close()


def _write_runs(url: str, writer: str, count: int) -> None:
    store = HistoryStore(url)
    for _ in range(count):
        store.record_run(_run(writer=writer))
    store.close()


def test_concurrent_writers_lose_nothing(url: str) -> None:
    # Each process opens (and so migrates) the new store itself, at the same moment.
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_runs, args=(url, f"w{i}", 25)) for i in range(4)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
        assert process.exitcode == 0
    store = HistoryStore(url)
    runs = store.runs(limit=1000)
    assert len(runs) == 100
    assert {r.candidate_id for r in runs} == {"w0", "w1", "w2", "w3"}
    assert all(len(store.run(r.id).metrics or []) == 1 for r in runs[:10])
    store.close()


def test_an_unreachable_store_is_a_clear_error() -> None:
    with pytest.raises(HistoryError, match="cannot be opened.*check history.url"):
        HistoryStore("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_metric_rows_are_the_newest_runs_oldest_first(url: str) -> None:
    store = HistoryStore(url)
    ids = [store.record_run(_run(auc=a)) for a in (0.80, 0.81, 0.82)]
    store.record_run(_run(profile="nightly"))
    rows = store.metric_rows("pr", runs_limit=2)
    assert [(r.run_id, r.value) for r in rows] == [(ids[1], 0.81), (ids[2], 0.82)]
    assert rows[0].ci_low == pytest.approx(0.79) and rows[0].created_at
    assert store.metric_rows("pr", gate_prefix="load.") == []
    assert len(store.metric_rows("pr", gate_prefix="quality.credit-v1::")) == 3
    store.close()


def test_a_store_from_a_newer_harness_is_refused_untouched(url: str) -> None:
    store = HistoryStore(url)
    store.record_run(_run())
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.close()
    with pytest.raises(HistoryError) as refused:
        HistoryStore(url)
    message = str(refused.value)
    assert "schema revision '0099'" in message
    assert f"knows up to '{HistoryStore.newest_schema_version()}'" in message
    assert "Upgrade the harness" in message
    engine = create_engine(url)
    with engine.connect() as connection:  # neither migrated nor written
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == "0099"
        assert connection.execute(text("SELECT count(*) FROM runs")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize(("url", "expected"), [
    ("mysql://harness:secret@127.0.0.1/history", "No module named 'MySQLdb'"),
    ("oracle+nosuch://x@y/z", "Can't load plugin"),
])
def test_a_url_whose_driver_is_not_installed_is_a_clear_error(url: str, expected: str) -> None:
    with pytest.raises(HistoryError) as refused:
        HistoryStore(url)
    message = str(refused.value)
    assert "needs a database driver that is not installed" in message and expected in message
    assert "history.url" in message and "secret" not in message


def test_the_cli_refuses_such_stores_once_before_anything_is_written(project: Path) -> None:
    import os
    import subprocess
    import sys

    def harness(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harness", *args], cwd=project,
                              capture_output=True, text=True, timeout=300, check=False,
                              env={**os.environ, **env})

    result = harness("history", HARNESS_HISTORY_URL="mysql://harness:secret@127.0.0.1/h")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("harness: error: history store mysql://harness:***@"
                                    "127.0.0.1/h needs a database driver that is not installed")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr

    url = f"sqlite:///{project}/.harness/history.db"
    store = HistoryStore(url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    store.close()
    database = (project / ".harness/history.db").read_bytes()
    result = harness("check", "--profile", "pr")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "schema revision '0099', which this harness does not know" in result.stderr
    assert result.stderr.count("harness: error:") == 1 and "Traceback" not in result.stderr
    assert not (project / "reports").exists(), "nothing ran"
    assert (project / ".harness/history.db").read_bytes() == database


def test_a_candidate_is_found_by_its_artifact_digest(url: str) -> None:
    """`harness promote --candidate <artifact sha256 prefix>`: the newest candidate whose
    evidence was recorded for that artifact."""
    from harness.history.release import candidate_of_artifact, record_evidence

    store = HistoryStore(url)
    first = store.record_run(replace(_run(writer="cand1"), model_sha256="ab" * 32))
    second = store.record_run(replace(_run(writer="cand2"), model_sha256="ab" * 32))
    record_evidence(store, "cand1", "staging", "passed", "e" * 64, "e1.json", first)
    record_evidence(store, "cand2", "staging", "passed", "e" * 64, "e2.json", second)
    assert candidate_of_artifact(store, "abababababab") == "cand2"
    assert candidate_of_artifact(store, "ab" * 32) == "cand2"
    assert candidate_of_artifact(store, "cdcdcdcdcdcd") is None
    assert candidate_of_artifact(store, "ab%") is None, "a LIKE wildcard is taken literally"
    store.close()


def test_a_sqlite_store_locked_too_long_names_the_lock(project: Path) -> None:
    """Another process holds the SQLite file past the wait (here the URL's 0.3 s): one
    message naming the lock and the remedies, exit 2, nothing run or recorded."""
    import os
    import sqlite3
    import subprocess
    import sys

    database = project / ".harness/history.db"
    HistoryStore(f"sqlite:///{database}").close()
    before = database.read_bytes()
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        result = subprocess.run(
            [sys.executable, "-m", "harness", "check", "--profile", "pr"], cwd=project,
            capture_output=True, text=True, timeout=300, check=False,
            env={**os.environ, "HARNESS_HISTORY_URL": f"sqlite:///{database}?timeout=0.3"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (
        f"harness: error: history store {database} stayed locked for 0.3s: another process "
        "(another harness command, a Jenkins job on this agent) holds the SQLite file. Wait "
        "for it to finish and run again; for jobs that run at once, use PostgreSQL "
        "(history.url: postgresql+psycopg://USER@HOST/DB). Nothing was recorded in history\n")
    assert not (project / "reports").exists(), "nothing ran"
    assert database.read_bytes() == before
