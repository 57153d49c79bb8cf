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
from harness.errors import HarnessError, PromotionRefused
from harness.history.glance import lock_holder
from harness.history.records import LockHolder

if TYPE_CHECKING:
    from harness.history import HistoryStore
    from harness.history.release import Lock

# The name of the lock a promotion holds, with its journal, while it runs.
LOCK = "promotion"


@dataclass(frozen=True)
class CanaryHold:
    """A canary held before its last step, awaiting a release manager's approval
    (``harness canary --hold-before-last``): its lock stays behind, its journal holding this,
    the canary keeping its share until ``harness canary --resume`` or ``--abort``."""

    step: int  # the last step that ran and passed, 1-based
    shares: tuple[float, ...]  # every step's share in percent; the last is still to run
    since: str
    by: str
    artifact_sha256: str  # the candidate's, as it answered when held
    port: int  # the canary's loopback port, where the router splits to
    cases: tuple[dict[str, Any], ...] = ()  # the steps' testcases, for the report at the end
    summaries: tuple[dict[str, Any], ...] = ()  # and their figures, for canary.json

    @property
    def percent(self) -> float:
        return self.shares[self.step - 1]

    def describe(self) -> str:
        return (f"held at {self.percent:g} % (step {self.step} of {len(self.shares)}) since "
                f"{self.since}, by {self.by}, awaiting approval before its last step "
                f"({self.shares[-1]:g} %)")

    @staticmethod
    def endings(env: str) -> str:
        """The two commands that end a hold of ``env``'s canary."""
        return (f"`harness canary --env {env} --resume --approver NAME` runs the last step "
                f"and promotes it, `harness canary --env {env} --abort` gives it up")

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "shares": list(self.shares), "since": self.since,
                "by": self.by, "artifact_sha256": self.artifact_sha256, "port": self.port,
                "cases": list(self.cases), "summaries": list(self.summaries)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CanaryHold:
        shares = tuple(float(s) for s in data["shares"])
        step = int(data["step"])
        if not 1 <= step < len(shares):
            raise ValueError(f"held at step {step} of {len(shares)}")
        return cls(step, shares, str(data["since"]), str(data["by"]),
                   str(data["artifact_sha256"]), int(data["port"]),
                   tuple(dict(c) for c in data.get("cases", ())),
                   tuple(dict(s) for s in data.get("summaries", ())))


@dataclass(frozen=True)
class PromotionJournal:
    """What a promotion in flight writes in its lock: the candidate, the phase it is in, and
    what ran in production before it (to restore should it be killed)."""

    candidate: str
    phase: str
    previous: Candidate | None = None
    canary: bool = False  # a canary's steps (harness canary), then its switch
    hold: CanaryHold | None = None  # a canary held for approval before its last step

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
                **({"canary": True} if self.canary else {}),
                **({"hold": self.hold.to_dict()} if self.hold else {})}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PromotionJournal:
        """Read a lock's journal; a journal that cannot be read is a ``HarnessError``."""
        try:
            previous = data.get("previous")
            hold = data.get("hold")
            return cls(str(data.get("candidate")), str(data.get("phase")),
                       Candidate.parse(previous) if previous is not None else None,
                       canary=data.get("canary") is True,
                       hold=CanaryHold.from_dict(hold) if hold is not None else None)
        except (AttributeError, TypeError, ValueError, KeyError) as exc:
            raise HarnessError(f"the promotion lock's journal cannot be read ({exc}); "
                               "release it by hand once production is checked") from None


def take_over_hold(lock: Lock, held: LockHolder, journal: PromotionJournal) -> None:
    """Become the holder of the held canary's lock ``held`` describes, writing ``journal``;
    refused when another command took it since it was read."""
    if not lock.take_over(held, journal.to_dict()):
        raise PromotionRefused("the held canary's lock changed hands while this command "
                               "read it; see harness status", candidate=journal.candidate)


def recover(config: HarnessConfig, store: HistoryStore, actor: str,
            target: DeployTarget | None = None) -> str | None:
    """If a promotion was killed midway, restore production to what ran before it and
    release its lock; returns what was found and done, or None when all is consistent."""
    from harness.history.release import Lock, append_audit

    lock = Lock(store, LOCK, actor)
    holder = lock.read()
    if holder is None or holder.alive():
        return None
    journal = PromotionJournal.from_dict(holder.journal)
    if journal.hold is not None:  # not interrupted: only `harness canary --abort` ends it
        return None
    target = target or get_target(config)
    env = config.release.production
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
    if journal.hold is not None:
        return None
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


def held(config: HarnessConfig, holder: LockHolder | None) -> str | None:
    """What a canary held before its last step (``holder`` of the promotion lock, if any)
    awaits, and how to end the hold; None when no canary is held."""
    if holder is None:
        return None
    journal = PromotionJournal.from_dict(holder.journal)
    if journal.hold is None:
        return None
    env = config.release.production
    alive = ""
    if config.deploy.target == "local":
        from harness.deploy.canary import canary_pid  # only for a canary: its process

        pid = canary_pid(config, env)
        alive = (f"; the canary (pid {pid}) answers its share" if pid is not None else
                 "; but the canary no longer runs: `harness canary --abort` ends the hold")
    return (f"a canary of candidate {journal.candidate} is {journal.hold.describe()}{alive}; "
            f"{CanaryHold.endings(env)}")


def held_canary(config: HarnessConfig) -> str | None:
    """``held`` for ``harness status`` and ``harness recover``, read as
    ``interrupted_promotion`` reads."""
    holder = lock_holder(config.history_url(), LOCK, "cannot tell whether a canary is held")
    return holder if isinstance(holder, str) else held(config, holder)
