"""Whether a candidate's attestations let it into a protected environment: a pure function
of the envelopes, the trust the config gives, the digest being deployed and the time.

The checks, in order; the first that no attestation passes is the refusal (for an envelope
failing on its own, the newest such envelope's):
signature (a trusted key signed it, unchanged), subject (it is about these bytes), tests
(the release profile passed, no failed testcase, every required one passed), freshness
(no older than ``max_age``), approval (a release manager approved that test result).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from harness.attest import dsse
from harness.attest.statement import APPROVAL, TEST_RESULT, Statement, parse, payload_digest


@dataclass(frozen=True)
class Trust:
    """What the config says about who may vouch for what."""

    keys: dict[str, Ed25519PublicKey]
    managers: list[str]
    max_age: dt.timedelta
    profile: str  # the release checks' profile (release.staging_profile)
    required_tests: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Attestation:
    """One envelope as read: who signed it, what it says, and what is wrong with it."""

    name: str  # where it was found
    keyid: str
    statement: Statement | None
    payload_sha256: str | None
    problem: str | None  # the first check it fails on its own (None: signature and subject)

    @property
    def kind(self) -> str:
        return self.statement.kind if self.statement else "unreadable"


@dataclass(frozen=True)
class Decision:
    attestations: list[Attestation]
    refusal: str | None  # "<check> check failed: ..." or None when it may be deployed

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def read(name: str, envelope: bytes, keys: dict[str, Ed25519PublicKey],
         digest: str) -> Attestation:
    """An envelope checked on its own: its signature and its subject."""
    claimed = ",".join(dsse.keyids(envelope)) or "?"
    try:
        verified = dsse.verify(envelope, keys)
    except dsse.EnvelopeError as exc:
        return Attestation(name, claimed, None, None, f"signature check failed: {name}: {exc}")
    try:
        statement = parse(verified.payload)
    except (ValueError, TypeError) as exc:
        return Attestation(name, verified.keyid, None, None,
                           f"signature check failed: {name}: {exc}")
    attestation = Attestation(name, verified.keyid, statement,
                              payload_digest(verified.payload), None)
    if verified.payload_type != dsse.IN_TOTO:
        return _with(attestation, f"signature check failed: {name} has payloadType "
                     f"{verified.payload_type!r}, not {dsse.IN_TOTO!r}")
    if digest not in statement.subjects:
        return _with(attestation, f"subject check failed: the {statement.kind} attestation "
                     f"{name} is about artifact sha256 "
                     f"{', '.join(s[:12] for s in statement.subjects) or '(none)'}..., not the "
                     f"deployed {digest[:12]}...")
    return attestation


def _with(attestation: Attestation, problem: str) -> Attestation:
    return Attestation(attestation.name, attestation.keyid, attestation.statement,
                       attestation.payload_sha256, problem)


def _test_problem(statement: Statement, trust: Trust) -> str | None:
    predicate = statement.predicate
    failed = [str(t) for t in predicate.get("failedTests") or []]
    passed = {str(t) for t in predicate.get("passedTests") or []}
    profile = (predicate.get("harness") or {}).get("profile")
    if failed or predicate.get("result") not in ("PASSED", "WARNED"):
        return (f"tests check failed: the test result says {predicate.get('result')}, failed "
                f"testcase(s): {', '.join(failed) or '(none named)'}")
    if profile != trust.profile:
        return (f"tests check failed: the test result is of profile {profile!r}, not the "
                f"release checks' {trust.profile!r} (release.staging_profile)")
    missing = [t for t in trust.required_tests if t not in passed]
    if missing:
        return (f"tests check failed: required testcase(s) {', '.join(missing)} did not pass "
                "(release.attestations.required_tests)")
    if not passed:
        return "tests check failed: the test result names no passed testcase"
    return None


def _age_problem(statement: Statement, trust: Trust, now: dt.datetime) -> str | None:
    moment = statement.time()
    if moment is None:
        return f"freshness check failed: the {statement.kind} has no valid time ({statement.at!r})"
    age = now - moment
    if age > trust.max_age:
        return (f"freshness check failed: the {statement.kind} of {statement.at} is "
                f"{age.total_seconds() / 3600:.1f} hours old, more than the "
                f"{trust.max_age.total_seconds() / 3600:g} allowed; rerun the release checks")
    if age < -dt.timedelta(minutes=5):
        return f"freshness check failed: the {statement.kind} is dated in the future ({statement.at})"
    return None


def decide(envelopes: list[tuple[str, bytes]], trust: Trust, digest: str,
           now: dt.datetime | None = None) -> Decision:
    """Whether the envelopes (name, bytes) let the artifact ``digest`` be deployed."""
    moment = now or dt.datetime.now(dt.UTC)
    read_ = [read(name, envelope, trust.keys, digest) for name, envelope in envelopes]
    if not read_:
        return Decision([], f"attestation check failed: no attestation for artifact sha256 "
                        f"{digest[:12]}...: run the release checks against staging (they sign "
                        "a test result) and promote it (which signs the approval)")
    sound = [a for a in read_ if a.problem is None]
    results = [a for a in sound if a.statement and a.statement.predicate_type == TEST_RESULT]
    approvals = [a for a in sound if a.statement and a.statement.predicate_type == APPROVAL]
    # Of the envelopes that fail on their own, the newest says what went wrong last.
    first = next((a.problem for a in reversed(read_) if a.problem), None)
    if not results:
        return Decision(read_, first or "attestation check failed: no test-result attestation "
                        f"for artifact sha256 {digest[:12]}...: run the release checks")
    # Each stage keeps the test results that pass it; the first stage none passes refuses.
    for check in (lambda s: _test_problem(s, trust), lambda s: _age_problem(s, trust, moment)):
        judged = [(a, check(a.statement)) for a in results if a.statement]
        kept = [a for a, problem in judged if problem is None]
        if not kept:
            return Decision(read_, judged[0][1])
        results = kept
    tested = {a.payload_sha256 for a in results}
    approval_problems = []
    for approval in approvals:
        assert approval.statement is not None
        predicate = approval.statement.predicate
        approver = str(predicate.get("approver"))
        names = ((predicate.get("testResult") or {}).get("digest") or {}).get("sha256")
        if names not in tested:
            approval_problems.append(f"approval check failed: the approval {approval.name} is of "
                                     "another test result than the valid one(s)")
        elif approver not in trust.managers:
            approval_problems.append(
                f"approval check failed: approved by {approver}, who is not among "
                f"release.managers ({', '.join(trust.managers) or 'none configured'})")
        elif (problem := _age_problem(approval.statement, trust, moment)) is not None:
            approval_problems.append(problem)
        else:
            return Decision(read_, None)
    if approval_problems:
        return Decision(read_, approval_problems[0])
    rejected = f"; of the attestations rejected, the newest: {first}" if first else ""
    return Decision(read_, "approval check failed: the test result has no approval "
                    "attestation: promote it with `harness promote` (a release manager's "
                    f"approval){rejected}")
