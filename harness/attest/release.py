"""The attestations of a release, for the config: what the release checks sign, what a
promotion signs, and the gate every deploy to a protected environment passes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from harness.attest import dsse, keys, statement, store
from harness.attest.verify import Decision, Trust, decide
from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.data.digests import golden_digests
from harness.digests import sha256_file
from harness.errors import AttestationError


def trust(config: HarnessConfig) -> Trust:
    release = config.release
    hours = release.attestations.max_age_hours or release.evidence_max_age_hours
    return Trust(keys.trusted_keys(config), list(release.managers), dt.timedelta(hours=hours),
                 release.staging_profile, list(release.attestations.required_tests))


def _subject_name(config: HarnessConfig, candidate: Candidate) -> str:
    return candidate.reference or f"{config.project}/{candidate.artifact.name}"


def sign_test_result(config: HarnessConfig, signer: keys.Signer, candidate: Candidate,
                     cases: list[tuple[str, str]], bundle: Path, reports: dict[str, str],
                     harness: dict[str, object]) -> Path:
    """Sign and keep the test result of a passed release run: ``cases`` are (title,
    outcome) pairs; ``reports`` the evidence's report digests (relative path -> sha256)."""
    passed = [title for title, outcome in cases if outcome == "passed"]
    failed = [title for title, outcome in cases if outcome in ("failed", "error")]
    configuration = {
        config.source.name: sha256_file(config.source),
        **{f"golden/{name}": digest for name, digest in golden_digests(config).items()},
        f"reports/{bundle.name}": sha256_file(bundle),
        **{f"reports/{name}": digest for name, digest in reports.items()},
    }
    payload = statement.result_statement(
        _subject_name(config, candidate), candidate.artifact_sha256, passed, failed,
        configuration, {"candidate": candidate.id, "project": config.project, **harness})
    envelope = dsse.sign(payload, signer.key, signer.keyid)
    return store.save(config, candidate.artifact_sha256, "test-result", envelope)


def approve(config: HarnessConfig, signer: keys.Signer, candidate: Candidate, approver: str,
            environment: str) -> bytes:
    """An approval envelope of the newest test result that passes every check but approval;
    ``AttestationError`` (naming the check) when there is none. Not kept yet: the caller
    keeps it once the whole decision allows the deploy."""
    digest = candidate.artifact_sha256
    envelopes = store.load(config, digest)
    rules = trust(config)
    unapproved = decide(envelopes, rules, digest)
    if unapproved.refusal is not None and not unapproved.refusal.startswith("approval check"):
        raise AttestationError(_refused(candidate, unapproved), candidate=candidate.id)
    tested = [a for a in unapproved.attestations
              if a.problem is None and a.kind == "test-result" and a.statement is not None
              and a.statement.predicate.get("harness", {}).get("candidate") == candidate.id]
    if not tested:
        raise AttestationError(
            f"candidate {candidate.id}: attestation check failed: no test result signed for "
            "this candidate: run the release checks against staging", candidate=candidate.id)
    newest = max(tested, key=lambda a: a.statement.at if a.statement else "")
    payload = statement.approval_statement(
        _subject_name(config, candidate), digest, approver, candidate.id, environment,
        newest.payload_sha256 or "")
    return dsse.sign(payload, signer.key, signer.keyid)


def gate(config: HarnessConfig, candidate: Candidate,
         extra: list[tuple[str, bytes]] | None = None) -> Decision:
    """The decision on the candidate's kept attestations (and ``extra`` ones); raises
    ``AttestationError`` naming the failed check when it may not be deployed."""
    digest = candidate.artifact_sha256
    decision = decide([*store.load(config, digest), *(extra or [])], trust(config), digest)
    if decision.refusal is not None:
        raise AttestationError(_refused(candidate, decision), candidate=candidate.id)
    return decision


def _refused(candidate: Candidate, decision: Decision) -> str:
    return (f"candidate {candidate.id} may not enter a protected environment: "
            f"{decision.refusal}")
