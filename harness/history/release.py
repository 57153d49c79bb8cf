"""Release records in the history store: evidence bundles, the audit trail, and the
promotion lock with its journal (what a promotion was doing, so a killed one can be
found and undone by the next command)."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from harness.clock import utc_now
from harness.history.records import AuditEntry, LockHolder
from harness.history.schema import audit, evidence, locks, runs
from harness.history.store import HistoryStore


def record_evidence(store: HistoryStore, candidate_id: str, environment: str, verdict: str,
                    bundle_sha256: str, path: str, run_id: int | None) -> int:
    with store.engine.begin() as connection:
        result = connection.execute(insert(evidence).values(
            created_at=utc_now(), candidate_id=candidate_id, environment=environment,
            verdict=verdict, bundle_sha256=bundle_sha256, path=path, run_id=run_id))
        return int(result.inserted_primary_key[0])


@dataclass(frozen=True)
class EvidenceRecord:
    """Where a release run's evidence bundle is, and the sha256 it had when recorded."""

    id: int
    created_at: str
    candidate_id: str
    environment: str
    verdict: str
    bundle_sha256: str
    path: str
    run_id: int | None


def latest_evidence(store: HistoryStore, candidate_id: str) -> EvidenceRecord | None:
    query = (select(evidence).where(evidence.c.candidate_id == candidate_id)
             .order_by(evidence.c.id.desc()).limit(1))
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
    return EvidenceRecord(**row._mapping) if row else None


def candidate_of_artifact(store: HistoryStore, sha256_prefix: str) -> str | None:
    """The newest candidate with evidence whose tested artifact's sha256 begins with
    ``sha256_prefix`` (as history and the pull-request report print it)."""
    query = (select(evidence.c.candidate_id).join(runs, runs.c.id == evidence.c.run_id)
             .where(runs.c.model_sha256.startswith(sha256_prefix, autoescape=True))
             .order_by(evidence.c.id.desc()).limit(1))
    with store.engine.connect() as connection:
        return connection.execute(query).scalar()


def append_audit(store: HistoryStore, actor: str, action: str, candidate_id: str,
                 outcome: str, detail: str, evidence_sha256: str | None = None) -> int:
    """Add one entry to the audit trail; entries are never changed or removed."""
    with store.engine.begin() as connection:
        result = connection.execute(insert(audit).values(
            at=utc_now(), actor=actor, action=action, candidate_id=candidate_id,
            evidence_sha256=evidence_sha256, outcome=outcome, detail=detail))
        return int(result.inserted_primary_key[0])


def latest_audit(store: HistoryStore, action: str, detail_prefix: str = "") -> AuditEntry | None:
    """The newest entry of ``action`` whose detail starts with ``detail_prefix``."""
    query = (select(audit).where(audit.c.action == action)
             .where(audit.c.detail.startswith(detail_prefix, autoescape=True))
             .order_by(audit.c.id.desc()).limit(1))
    with store.engine.connect() as connection:
        row = connection.execute(query).first()
    return AuditEntry(**row._mapping) if row else None


def audit_trail(store: HistoryStore, limit: int = 50) -> list[AuditEntry]:
    """The newest entries last."""
    query = select(audit).order_by(audit.c.id.desc()).limit(limit)
    with store.engine.connect() as connection:
        return [AuditEntry(**r._mapping) for r in reversed(connection.execute(query).all())]


class LockHeld(Exception):
    """The lock is held by someone else."""

    def __init__(self, holder: LockHolder) -> None:
        super().__init__(holder.holder)
        self.holder = holder


class Lock:
    """A named lock as a row in the store: inserting it is taking it, so it holds across
    processes and Jenkins agents that share the store."""

    def __init__(self, store: HistoryStore, name: str, holder: str) -> None:
        self._store = store
        self.name = name
        self.holder = holder

    def read(self) -> LockHolder | None:
        with self._store.engine.connect() as connection:
            row = connection.execute(select(locks).where(locks.c.name == self.name)).first()
        if row is None:
            return None
        return LockHolder.from_row(row.holder, row.host, row.pid, row.acquired_at, row.journal)

    def acquire(self, journal: dict[str, Any]) -> None:
        """Take the lock, or raise ``LockHeld`` naming who has it."""
        try:
            with self._store.engine.begin() as connection:
                connection.execute(insert(locks).values(
                    name=self.name, holder=self.holder, host=socket.gethostname(),
                    pid=os.getpid(), acquired_at=utc_now(), journal=json.dumps(journal)))
        except IntegrityError:
            current = self.read()
            if current is None:  # released between our insert and read: try once more
                return self.acquire(journal)
            raise LockHeld(current) from None

    def take_over(self, held: LockHolder, journal: dict[str, Any]) -> bool:
        """Become the holder of the lock ``held`` describes (a canary held for approval,
        resumed or given up by a later command), writing ``journal``; False when the lock
        changed hands since it was read."""
        with self._store.engine.begin() as connection:
            taken = connection.execute(
                update(locks).where(locks.c.name == self.name, locks.c.holder == held.holder,
                                    locks.c.host == held.host, locks.c.pid == held.pid,
                                    locks.c.acquired_at == held.acquired_at)
                .values(holder=self.holder, host=socket.gethostname(), pid=os.getpid(),
                        acquired_at=utc_now(), journal=json.dumps(journal)))
            return taken.rowcount == 1

    def write_journal(self, journal: dict[str, Any]) -> None:
        with self._store.engine.begin() as connection:
            connection.execute(update(locks).where(locks.c.name == self.name)
                               .values(journal=json.dumps(journal)))

    def release(self) -> None:
        with self._store.engine.begin() as connection:
            connection.execute(delete(locks).where(locks.c.name == self.name))
