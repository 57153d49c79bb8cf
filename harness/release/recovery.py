"""What a killed promotion left behind: found by ``harness status``, undone by
``harness recover``. Light to import, because ``harness status`` runs it every time: the
deploy target and the history store, none of the checks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.deploy.registry import get_target
from harness.deploy.target import DeployTarget
from harness.errors import HarnessError
from harness.history.glance import lock_holder
from harness.history.records import LockHolder

if TYPE_CHECKING:
    from harness.history import HistoryStore

# The name of the lock a promotion holds, with its journal, while it runs.
LOCK = "promotion"


@dataclass(frozen=True)
class PromotionJournal:
    """What a promotion in flight writes in its lock: the candidate, the phase it is in, and
    what ran in production before it (to restore should it be killed)."""

    candidate: str
    phase: str
    previous: Candidate | None = None
    canary: bool = False  # a canary's steps (harness canary), then its switch

    @property
    def what(self) -> str:
        return "canary" if self.canary else "promotion"

    @property
    def previous_candidate(self) -> str | None:
        return self.previous.id if self.previous else None

    def to_dict(self) -> dict[str, Any]:
        # previous_candidate is kept beside previous: journals have always carried both.
        return {"candidate": self.candidate, "phase": self.phase,
                "previous_candidate": self.previous_candidate,
                "previous": self.previous.to_dict() if self.previous else None,
                **({"canary": True} if self.canary else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromotionJournal:
        """Read a lock's journal; a journal that cannot be read is a ``HarnessError``."""
        try:
            previous = data.get("previous")
            return cls(str(data.get("candidate")), str(data.get("phase")),
                       Candidate.parse(previous) if previous is not None else None,
                       canary=data.get("canary") is True)
        except (AttributeError, TypeError, ValueError) as exc:
            raise HarnessError(f"the promotion lock's journal cannot be read ({exc}); "
                               "release it by hand once production is checked") from None


def recover(config: HarnessConfig, store: HistoryStore, actor: str,
            target: DeployTarget | None = None) -> str | None:
    """If a promotion was killed midway, restore production to what ran before it and
    release its lock; returns what was found and done, or None when all is consistent."""
    from harness.history.release import Lock, append_audit

    lock = Lock(store, LOCK, actor)
    holder = lock.read()
    if holder is None or holder.alive():
        return None
    target = target or get_target(config)
    env = config.release.production
    journal = PromotionJournal.from_dict(holder.journal)
    found = _stopped(holder)
    previous = journal.previous
    ended = None
    if journal.canary and config.deploy.target == "local":
        from harness.deploy.canary import end_canary  # only for a canary: nginx, processes

        ended = end_canary(config, env)
    current = target.status(env)
    if previous is None:
        target.stop(env)
        action = f"stopped {env}, where nothing ran before"
    elif current is None or current.candidate.id != previous.id or not current.healthy:
        restored = target.deploy(env, previous)
        action = f"restored candidate {previous.id} in {env} (revision {restored.revision})"
    else:
        action = f"{env} still runs candidate {previous.id}; nothing to undo"
    if ended:
        action = f"{ended}; {action}"
    append_audit(store, actor, "recover", journal.candidate, "recovered",
                 f"found {found}; {action}")
    lock.release()
    return f"found {found}; {action}"


def _stopped(holder: LockHolder) -> str:
    journal = PromotionJournal.from_dict(holder.journal)
    return (f"a {journal.what} of candidate {journal.candidate} by {holder.holder} "
            f"(pid {holder.pid}, since {holder.acquired_at}) stopped during "
            f"'{journal.phase}'")


def interrupted(config: HarnessConfig, holder: LockHolder | None) -> str | None:
    """What a killed promotion left behind (``holder`` of the promotion lock, if any) and
    what ``harness recover`` would do about it; None when no promotion was interrupted."""
    if holder is None or holder.alive():
        return None
    env = config.release.production
    journal = PromotionJournal.from_dict(holder.journal)
    previous = journal.previous_candidate
    would = (f"restore candidate {previous} in {env}" if previous
             else f"stop {env}, where nothing ran before")
    if journal.canary:
        would = f"route all of {env}'s traffic to its current revision, stop the canary, {would}"
    return (f"an interrupted {journal.what} was found: {_stopped(holder)}; `harness recover` "
            f"would {would}")


def interrupted_promotion(config: HarnessConfig) -> str | None:
    """``interrupted`` for ``harness status``: creates no history store where there is none,
    and says so, rather than failing, when the store cannot be reached; a store a newer
    harness wrote is refused (``HistorySchemaError``), as every command refuses it."""
    unknown = "cannot tell whether a promotion was interrupted"
    holder = lock_holder(config.history_url(), LOCK, unknown)
    return holder if isinstance(holder, str) else interrupted(config, holder)
