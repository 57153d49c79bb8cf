"""Promotion to production: fails closed, holds a lock, keeps an audit trail, checks the
result, and rolls back by itself when the checks fail.

A promotion writes its phase in the lock's journal as it goes. If it is killed, the
lock stays behind with the journal, and the next promotion (or ``harness recover``)
finds it, says so, restores production to what ran before, and records both in the
audit trail.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from harness.attest import keys as attest_keys
from harness.attest import release as attestations
from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.data.datasets import read_dataset
from harness.data.digests import identity_digests
from harness.deploy.registry import get_target
from harness.deploy.target import Deployment, served_artifact_problem
from harness.errors import AttestationError, EvidenceError, HarnessError, PromotionRefused
from harness.gates.checks.quality import check_floor
from harness.gates.evaluation import evaluate
from harness.gates.outcome import Outcome
from harness.gates.properties import GateProperties
from harness.gates.result import GateResult
from harness.history import HistoryStore
from harness.history.release import (
    Lock,
    LockHeld,
    LockHolder,
    append_audit,
    candidate_of_artifact,
    latest_evidence,
)
from harness.kinds import PER_CLASS
from harness.model.adapters import HttpModel
from harness.release.load_after import load_after_promotion
from harness.release.recovery import (
    LOCK,
    CanaryHold,
    PromotionJournal,
    recover,
    take_over_hold,
)
from harness.run.evidence import verified_evidence
from harness.run.junit import Case, judged_case, write_junit

# A refusal deploys nothing: its report goes beside the last real promotion's, not over it.
REPORT = "promotion.xml"
REFUSED_REPORT = "promotion-refused.xml"


@dataclass
class PromotionResult:
    candidate_id: str
    promoted: bool
    message: str
    cases: list[Case] = field(default_factory=list)
    junit: Path | None = None
    attempted: bool = False  # whether production was touched (a deploy or a recovery)
    held: bool = False  # a canary held before its last step, awaiting approval


def _post_checks(config: HarnessConfig, deployment: Deployment,
                 candidate: Candidate, reports_root: Path | None = None) -> list[Case]:
    """What must hold once the candidate runs in production."""
    cases = []
    url = deployment.url or ""
    problem = served_artifact_problem(url, candidate)
    cases.append(judged_case("post_deploy", "version", GateResult(
        Outcome.of(problem is None),
        problem or f"{url} serves artifact {candidate.artifact_sha256[:12]}...",
        GateProperties(expected=candidate.artifact_sha256))))
    # The first quality gate with an absolute bound (roc_auc for the reference project),
    # judged over HTTP in the service's own protocol.
    metric, gate = next(((m, g) for m, g in config.gates.quality.items()
                         if (g.min is not None or g.max is not None) and m != PER_CLASS),
                        (None, None))
    if config.golden and metric is not None and gate is not None:
        spec = config.golden[0]
        frame = read_dataset(spec.name, config.resolve(spec.path)).frame
        try:
            production = HttpModel.open(config.model.over_http(url), config)
            evaluation = evaluate(config, spec.name, frame, production)
            judged = check_floor(metric, gate, evaluation.estimate(metric),
                                 evaluation.rows(), spec.name)
            judged = replace(judged, message=f"over HTTP: {judged.message}")
        except HarnessError as exc:
            judged = GateResult(Outcome.FAILED, str(exc))
        cases.append(judged_case("post_deploy", f"{spec.name}.{metric}", judged))
    if reports_root is not None:
        cases.extend(load_after_promotion(config, url, reports_root / "promotion" / "load"))
    return cases


def _config_problems(config: HarnessConfig, recorded: dict[str, str]) -> list[str]:
    """How the config and golden data this promotion runs under differ from those the
    evidence was produced under."""
    now = identity_digests(config)
    names = {"config": f"the configuration {config.source}", "golden": "the golden data"}
    return [f"{names[key]} (sha256 {now[key][:12]}...) is not what the release checks ran "
            f"under (evidence records {str(recorded.get(key))[:12]}...)"
            for key in ("config", "golden") if recorded.get(key) != now[key]]


@dataclass(frozen=True)
class Admission:
    """A candidate let through to production's switch: its evidence, checked against this
    configuration, and the approval (an envelope for a protected environment)."""

    candidate: Candidate
    env: str
    evidence_run: int
    bundle_sha: str
    approval: bytes | None


@dataclass(frozen=True)
class Hold:
    """What a ``BeforeSwitch`` returns to stop with the lock kept: a canary held before its
    last step, its journal (written by it) saying so, awaiting the approval."""

    message: str


# Run between the lock and the switch (a canary's traffic steps): given the admission,
# the lock (to write its phases in the journal) and the journal, it returns None to go on
# to the switch, why the promotion stopped (production left on what ran before), or a
# ``Hold`` (the lock kept for a later ``harness canary --resume``).
BeforeSwitch = Callable[[Admission, Lock, PromotionJournal, HistoryStore], str | Hold | None]


def promote(config: HarnessConfig, candidate_id: str, approver: str,
            reports_root: Path, before_switch: BeforeSwitch | None = None,
            approving: bool = True, held: LockHolder | None = None) -> PromotionResult:
    """Promote ``candidate_id`` to production on ``approver``'s word, or refuse saying why.
    With ``before_switch`` (``harness canary``), it runs under the promotion's lock after
    every check of the approval and evidence and before the deploy, and may stop it or hold.
    ``approving=False`` (a canary holding before its last step): ``approver`` only names who
    runs it, and the approval is asked when the held canary resumes, the lock ``held``
    describes then taken over rather than taken."""
    store = HistoryStore(config.history_url())
    candidate_id = _candidate(store, candidate_id)
    actor = approver or "(nobody)"
    result = PromotionResult(candidate_id, False, "")
    try:
        recovered = recover(config, store, actor)
        if recovered:
            result.attempted = True
            result.cases.append(Case("promotion", "recovery", Outcome.PASSED, recovered))
        result = _promote(config, store, candidate_id, approver, result, reports_root,
                          before_switch, approving, held)
    except HarnessError as exc:
        result.message = str(exc)
        refused = isinstance(exc, (PromotionRefused, EvidenceError, AttestationError))
        append_audit(store, actor, "promote", candidate_id, "refused" if refused else "failed",
                     str(exc))
        result.cases.append(Case("promotion", "outcome", Outcome.FAILED, str(exc)))
        raise
    finally:
        folder = reports_root / "promotion" / "junit"
        if result.attempted:
            (folder / REFUSED_REPORT).unlink(missing_ok=True)  # an older refusal is history
        result.junit = write_junit(folder / (REPORT if result.attempted else REFUSED_REPORT),
                                   "harness-promotion", result.cases)
        store.close()
    return result


def _candidate(store: HistoryStore, given: str) -> str:
    """A candidate id as given; else, for 12 to 64 hex digits that no candidate's evidence
    is filed under, the candidate whose artifact digest begins with them (the id of a
    published candidate also covers its reference, which a pull-request run cannot know)."""
    if latest_evidence(store, given) is not None or not re.fullmatch(r"[0-9a-f]{12,64}", given):
        return given
    return candidate_of_artifact(store, given) or given


def _admit(config: HarnessConfig, store: HistoryStore, candidate_id: str, approver: str,
           result: PromotionResult, approving: bool = True) -> Admission:
    """The approver, the evidence and its inputs, the attestations: every check made before
    production is touched; a refusal raises. Not ``approving`` (a canary that holds before
    its last step), the evidence and its inputs only: the approver and the attestations are
    checked when it resumes."""
    if approving:
        _approver(config, candidate_id, approver, result)
    else:
        result.cases.append(Case("promotion", "approver", Outcome.SKIPPED,
                                 "asked before the canary's last step (harness canary "
                                 "--resume --approver NAME)"))
    evidence, bundle_sha = verified_evidence(store, candidate_id,
                                             config.release.evidence_max_age_hours, config.root)
    result.cases.append(Case("promotion", "evidence", Outcome.PASSED,
                             f"evidence of run {evidence.run_id} in {evidence.environment}, "
                             f"{evidence.created_at}", GateProperties(bundle_sha256=bundle_sha)))
    changed = _config_problems(config, evidence.digests)
    if changed:
        raise PromotionRefused(
            f"candidate {candidate_id} was tested under other inputs: {'; '.join(changed)}. "
            "Rerun the release checks under this configuration (harness check --profile "
            f"{config.release.staging_profile}), or promote with the one they ran under",
            candidate=candidate_id,
        )
    candidate = evidence.candidate
    env = config.release.production
    approval = _attested(config, candidate, approver, env, result) if approving else None
    return Admission(candidate, env, evidence.run_id, bundle_sha, approval)


def _approver(config: HarnessConfig, candidate_id: str, approver: str,
              result: PromotionResult) -> None:
    """The approver must be a release manager; a refusal raises."""
    managers = config.release.managers
    allowed = approver in managers
    result.cases.append(Case("promotion", "approver", Outcome.of(allowed),
                             f"{approver or '(nobody)'} is {'' if allowed else 'not '}a release "
                             f"manager ({', '.join(managers) or 'none configured'})"))
    if not allowed:
        raise PromotionRefused(
            f"{approver or '(nobody)'} may not approve promotions: not among release.managers "
            f"in {config.source}",
            candidate=candidate_id,
        )


def _promote(config: HarnessConfig, store: HistoryStore, candidate_id: str, approver: str,
             result: PromotionResult, reports_root: Path | None = None,
             before_switch: BeforeSwitch | None = None, approving: bool = True,
             held: LockHolder | None = None) -> PromotionResult:
    admission = _admit(config, store, candidate_id, approver, result, approving)
    candidate, env, bundle_sha = admission.candidate, admission.env, admission.bundle_sha
    target = get_target(config)
    lock = Lock(store, LOCK, approver)
    current = target.status(env)
    previous = current.candidate if current else None
    journal = PromotionJournal(candidate.id, "deploying" if before_switch is None else "canary",
                               previous, canary=before_switch is not None)
    if held is not None:
        take_over_hold(lock, held, journal)
    else:
        try:
            lock.acquire(journal.to_dict())
        except LockHeld as holding:
            raise PromotionRefused(_held(holding.holder, env), candidate=candidate_id) \
                from None
    append_audit(store, approver, "promote", candidate.id, "resumed" if held else "started",
                 f"to {env}, on evidence of run {admission.evidence_run}"
                 + (", through a canary" if before_switch else "")
                 + ("" if approving else ", its approval asked before the last step"),
                 bundle_sha)
    result.attempted = True
    keep_lock = False
    try:
        if before_switch is not None:
            stopped = before_switch(admission, lock, journal, store)
            if isinstance(stopped, Hold):
                keep_lock = True
                append_audit(store, approver, "promote", candidate.id, "held",
                             stopped.message, bundle_sha)
                result.cases.append(Case("promotion", "outcome", Outcome.SKIPPED,
                                         stopped.message))
                result.message, result.held = stopped.message, True
                return result
            if stopped is not None:
                result.cases.append(Case("promotion", "outcome", Outcome.FAILED, stopped))
                result.message = stopped
                return result
            lock.write_journal(replace(journal, phase="deploying").to_dict())
        if admission.approval is not None:  # kept (and published) before the deploy that checks it
            attestations.keep(config, candidate, "approval", admission.approval)
        deployment = target.deploy(env, candidate)
        lock.write_journal(replace(journal, phase="verifying").to_dict())
        checks = _post_checks(config, deployment, candidate, reports_root)
        result.cases.extend(checks)
        failed = [c for c in checks if not c.passed]
        if failed:
            causes = "; ".join(f"{c.classname}.{c.name}: {c.message}" for c in failed)
            if previous is None:
                # Nothing ran before: fail closed, production is left empty.
                target.stop(env)
                undone = f"nothing ran in {env} before, so it was stopped and {env} is empty"
            else:
                restored = target.rollback(env)
                undone = (f"rolled back to candidate {restored.candidate.id} "
                          f"(revision {restored.revision})")
            message = (f"candidate {candidate.id} failed its post-deploy checks in {env}: "
                       f"{causes}; {undone}")
            append_audit(store, approver, "promote", candidate.id,
                         "stopped" if previous is None else "rolled back", message, bundle_sha)
            result.cases.append(Case("promotion", "outcome", Outcome.FAILED, message))
            result.message = message
            return result
        message = f"candidate {candidate.id} runs in {env} (revision {deployment.revision})"
        append_audit(store, approver, "promote", candidate.id, "promoted", message, bundle_sha)
        result.cases.append(Case("promotion", "outcome", Outcome.PASSED, message))
        result.promoted, result.message = True, message
        return result
    finally:
        if not keep_lock:
            lock.release()


def _attested(config: HarnessConfig, candidate: Candidate, approver: str, env: str,
              result: PromotionResult) -> bytes | None:
    """The approval envelope for a protected ``env``, once the candidate's signed test result
    and this approval pass every check the deploy will make; None when ``env`` is open."""
    if not config.protected(env):
        return None
    signer = attest_keys.signer(config)
    approval = attestations.approve(config, signer, candidate, approver, env)
    decision = attestations.gate(config, candidate, [("the new approval", approval)])
    signers = sorted({a.keyid for a in decision.attestations if a.problem is None})
    result.cases.append(Case("promotion", "attestations", Outcome.PASSED,
                             f"signed test result and approval by {approver} verified "
                             f"(keys {', '.join(signers)})"))
    return approval


def _held(holder: LockHolder, env: str) -> str:
    journal = PromotionJournal.from_dict(holder.journal)
    if journal.hold is not None:
        return (f"a canary of candidate {journal.candidate} is {journal.hold.describe()}; "
                f"{CanaryHold.endings(env)}")
    return (f"another promotion holds the lock: candidate {journal.candidate} "
            f"by {holder.holder} on {holder.host} (pid {holder.pid}) since "
            f"{holder.acquired_at}; wait for it to finish")
