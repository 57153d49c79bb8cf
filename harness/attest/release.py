"""The attestations of a release, for the config: what the release checks sign, what a
promotion signs, and the gate every deploy to a protected environment passes."""

from __future__ import annotations

import datetime as dt
import json
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


def keep(config: HarnessConfig, candidate: Candidate, kind: str, envelope: bytes) -> Path:
    """Keep an envelope beside the state, and, for a published candidate, attach it to the
    model in the registry (where the Kubernetes init container finds it)."""
    path = store.save(config, candidate.artifact_sha256, kind, envelope)
    if candidate.reference is not None:
        from harness.attest import referrers
        from harness.candidate.publish import parse_pinned, session

        referrers.attach(session(config, parse_pinned(candidate.reference)), envelope, kind)
    return path


def collected(config: HarnessConfig, artifact_sha256: str,
              reference: str | None = None) -> list[tuple[str, bytes]]:
    """Every envelope for the artifact: kept here, and attached to ``reference`` (a pinned
    model reference) in its registry."""
    found = store.load(config, artifact_sha256)
    if reference is not None:
        from harness.attest import referrers
        from harness.candidate.publish import parse_pinned, session

        found.extend(referrers.envelopes(session(config, parse_pinned(reference))))
    return found


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
    made = _lineage(config, candidate.artifact_sha256)
    payload = statement.result_statement(
        _subject_name(config, candidate), candidate.artifact_sha256, passed, failed,
        configuration, {"candidate": candidate.id, "project": config.project, **harness,
                        **({"lineage": made} if made else {})})
    envelope = dsse.sign(payload, signer.key, signer.keyid)
    return keep(config, candidate, "test-result", envelope)


def _lineage(config: HarnessConfig, artifact_sha256: str) -> dict[str, object] | None:
    """What made these bytes, as ``harness build`` recorded it beside the artifact, so the
    signed test result carries it; None when no build recorded it for exactly these bytes."""
    if config.model.artifact is None:
        return None
    from dataclasses import asdict

    from harness.candidate.lineage import read

    made = read(config.resolve(config.model.artifact), artifact_sha256)
    return asdict(made) if made is not None else None


def approve(config: HarnessConfig, signer: keys.Signer, candidate: Candidate, approver: str,
            environment: str) -> bytes:
    """An approval envelope of the newest test result that passes every check but approval;
    ``AttestationError`` (naming the check) when there is none. Not kept yet: the caller
    keeps it once the whole decision allows the deploy."""
    digest = candidate.artifact_sha256
    envelopes = collected(config, digest, candidate.reference)
    rules = trust(config)
    unapproved = decide(envelopes, rules, digest)
    if unapproved.refusal is not None and not unapproved.refusal.startswith("approval check"):
        raise AttestationError(_refused(candidate, unapproved), candidate=candidate.id)
    tested = [a for a in unapproved.attestations
              if a.problem is None and a.statement is not None
              and a.statement.predicate_type == statement.TEST_RESULT
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
    decision = decide([*collected(config, digest, candidate.reference), *(extra or [])],
                      trust(config), digest)
    if decision.refusal is not None:
        raise AttestationError(_refused(candidate, decision), candidate=candidate.id)
    return decision


def _refused(candidate: Candidate, decision: Decision) -> str:
    return (f"candidate {candidate.id} may not enter a protected environment: "
            f"{decision.refusal}")


def pull_verified(config: HarnessConfig, text: str, destination: Path, env: str,
                  as_of: str | None = None) -> Path:
    """``harness pull`` for a protected environment (the Kubernetes init container): the
    attestations of the model a pinned reference names are verified first; on a refusal
    nothing is written at ``destination``. The pulled bytes must be the attested digest.
    ``as_of`` (ISO 8601) is the time freshness is judged at: the deploy's, in the pod
    template, never later than now."""
    from harness.candidate.oci import pull_folder
    from harness.candidate.publish import parse_pinned, session

    reference = parse_pinned(text)
    registry = session(config, reference)
    digest = registry.manifest().artifact_sha256
    now = dt.datetime.now(dt.UTC)
    moment = now
    if as_of is not None:
        try:
            moment = dt.datetime.fromisoformat(as_of)
        except ValueError:
            raise AttestationError(f"--as-of {as_of!r} is not an ISO 8601 time",
                                   key="--as-of") from None
        moment = min(moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC), now)
    decision = decide(collected(config, digest, reference.pinned), trust(config), digest,
                      moment)
    if decision.refusal is not None:
        raise AttestationError(f"{reference.pinned} may not enter {env}: {decision.refusal}; "
                               f"nothing was written at {destination}")
    pull_folder(registry, destination, digest)
    return destination


def describe(decision: Decision, digest: str, local: bool) -> list[str]:
    """What ``harness verify`` prints: one line per attestation, then the decision."""
    lines = [f"attestations of artifact sha256 {digest}:"]
    for attestation in decision.attestations:
        statement_ = attestation.statement
        what = ""
        if statement_ is not None and statement_.predicate_type == statement.TEST_RESULT:
            predicate = statement_.predicate
            extra = predicate.get("harness") or {}
            what = (f"{predicate.get('result')}, {len(predicate.get('passedTests') or [])} "
                    f"passed, {len(predicate.get('failedTests') or [])} failed, profile "
                    f"{extra.get('profile')} in {extra.get('environment')}, candidate "
                    f"{extra.get('candidate')}")
            made = extra.get("lineage")
            if isinstance(made, dict):
                parameters = made.get("parameters")
                what += (f"; built from code revision {made.get('code_revision') or 'unknown'}"
                         f", training data sha256 {made.get('training_sha256') or 'unknown'}, "
                         + (f"parameters {json.dumps(parameters, sort_keys=True)}" if parameters
                            else "no parameters recorded"))
        elif statement_ is not None and statement_.predicate_type == statement.APPROVAL:
            predicate = statement_.predicate
            what = (f"approved by {predicate.get('approver')} for "
                    f"{predicate.get('environment')}, candidate {predicate.get('candidate')}")
        signer = attestation.keyid + (" (the local-only key)" if local else "")
        at = statement_.at if statement_ is not None else "?"
        lines.append(f"  {attestation.kind:<12} signed by {signer}  {at}  {what}  "
                     f"[{attestation.name}]")
        if attestation.problem:
            lines.append(f"    {attestation.problem}")
    lines.append(f"REFUSED: {decision.refusal}" if decision.refusal else
                 "allowed: a trusted key signed a passed, fresh test result of these bytes, "
                 "approved by a release manager")
    return lines
