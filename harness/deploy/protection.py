"""Protected environments: only ``harness promote`` (with the rollback and recovery it owns)
changes them. ``harness deploy|rollback|stop`` there is refused, unless a release manager
breaks the glass, which is audited: who, why, what ran before and what runs now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from harness.config import HarnessConfig
from harness.deploy.target import Deployment, DeployTarget
from harness.errors import HarnessError, ProtectedEnvironment

# The audit trail's action for a break-glass; its detail starts with "<env>: ".
BREAK_GLASS = "break-glass"

T = TypeVar("T")


@dataclass(frozen=True)
class BreakGlass:
    """A release manager's explicit, audited way around a protected environment."""

    by: str
    reason: str


def guard(config: HarnessConfig, env: str, action: str, break_glass: BreakGlass | None) -> None:
    """Refuse ``action`` on ``env`` when it is protected and no valid break-glass is given."""
    protected = config.protected(env)
    if not protected:
        if break_glass is not None:
            raise ProtectedEnvironment(
                f"environment {env} is not protected: run `harness {action} --env {env}` "
                "without --break-glass", key="--break-glass")
        return
    if break_glass is None:
        raise ProtectedEnvironment(
            f"environment {env} is protected: `harness {action} --env {env}` is refused. "
            f"A candidate reaches {env} through `harness promote --candidate ID --approver "
            f"NAME`; in an emergency a release manager may break the glass with `harness "
            f"{action} --env {env} --break-glass --reason TEXT --by NAME` (audited)",
            key=f"environments.{env}.protected")
    managers = config.release.managers
    if break_glass.by not in managers:
        raise ProtectedEnvironment(
            f"{break_glass.by or '(nobody)'} may not break the glass on {env}: not among "
            f"release.managers in {config.source} ({', '.join(managers) or 'none configured'})",
            key="--by")
    if not break_glass.reason.strip():
        raise ProtectedEnvironment(f"a break-glass on {env} needs a --reason saying why",
                                   key="--reason")


def guarded(config: HarnessConfig, env: str, action: str, break_glass: BreakGlass | None,
            target: DeployTarget, run: Callable[[], T]) -> T:
    """Run ``action`` on ``env`` if ``guard`` lets it; a break-glass is audited before it
    runs and with its outcome."""
    guard(config, env, action, break_glass)
    if break_glass is None:
        return run()
    from harness.history import HistoryStore
    from harness.history.release import append_audit

    before = target.status(env)
    store = HistoryStore(config.history_url())
    try:
        who, why = break_glass.by, break_glass.reason.strip()
        subject = before.candidate.id if before else "-"
        append_audit(store, who, BREAK_GLASS, subject, "started",
                     f"{env}: {action}; reason: {why}; before: {_what(before)}")
        try:
            result = run()
        except HarnessError as exc:
            append_audit(store, who, BREAK_GLASS, subject, "failed",
                         f"{env}: {action}; reason: {why}; before: {_what(before)}; "
                         f"failed: {exc}; now: {_what(target.status(env))}")
            raise
        after = target.status(env)
        append_audit(store, who, BREAK_GLASS, after.candidate.id if after else subject, "done",
                     f"{env}: {action}; reason: {why}; before: {_what(before)}; "
                     f"now: {_what(after)}")
        return result
    finally:
        store.close()


def _what(deployment: Deployment | None) -> str:
    if deployment is None:
        return "nothing"
    state = "healthy" if deployment.healthy else "not serving"
    return (f"candidate {deployment.candidate.id} (revision {deployment.revision}, "
            f"artifact sha256 {deployment.candidate.artifact_sha256[:12]}, {state})")


def last_break_glass(config: HarnessConfig, env: str) -> str | None:
    """The latest break-glass on ``env`` as one line for ``harness status``; None when there
    was none (or there is no history store yet)."""
    from harness.history.glance import newest_audit

    entry = newest_audit(config.history_url(), BREAK_GLASS, f"{env}: ",
                         f"{env}: cannot tell whether the glass was broken")
    if isinstance(entry, str):
        return entry
    if entry is None:
        return None
    return (f"{env}: BREAK-GLASS by {entry.actor} at {entry.at[:19]} ({entry.outcome}): "
            f"{entry.detail[len(env) + 2:]}")
