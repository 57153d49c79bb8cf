"""Signed release attestations as pure functions: DSSE envelopes signed with generated
Ed25519 keys, and the decision on them, refusal by refusal."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.attest import dsse, statement
from harness.attest.verify import Trust, decide

DIGEST = "ab" * 32
OTHER = "cd" * 32
CI = Ed25519PrivateKey.generate()
STRANGER = Ed25519PrivateKey.generate()
TRUST = Trust({"ci": CI.public_key()}, ["ana", "ben"], dt.timedelta(hours=24), "release",
              ["quality.credit.roc_auc"])
PASSED = ["quality.credit.roc_auc", "schema.credit.columns"]


def _result(digest: str = DIGEST, failed: tuple[str, ...] = (), key=CI, keyid: str = "ci",
            profile: str = "release", passed: list[str] = PASSED) -> bytes:
    payload = statement.result_statement("registry/credit@sha256:x", digest, list(passed),
                                         list(failed), {"harness.yaml": "00" * 32},
                                         {"candidate": "c0ffee", "profile": profile})
    return dsse.sign(payload, key, keyid)


def _approval(result: bytes, approver: str = "ana", digest: str = DIGEST, key=CI) -> bytes:
    tested = statement.payload_digest(base64.b64decode(json.loads(result)["payload"]))
    payload = statement.approval_statement("registry/credit@sha256:x", digest, approver,
                                           "c0ffee", "production", tested)
    return dsse.sign(payload, key, "ci")


def _decide(*envelopes: bytes, now: dt.datetime | None = None) -> str | None:
    named = [(f"e{i}.dsse.json", e) for i, e in enumerate(envelopes)]
    return decide(named, TRUST, DIGEST, now).refusal


def test_pae_is_the_dsse_encoding() -> None:
    # The example of the DSSE protocol document.
    assert dsse.pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world")


def test_an_envelope_is_dsse_and_its_statement_in_toto() -> None:
    envelope = json.loads(_result())
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    assert envelope["signatures"][0]["keyid"] == "ci"
    data = json.loads(base64.b64decode(envelope["payload"]))
    assert data["_type"] == "https://in-toto.io/Statement/v1"
    assert data["subject"] == [{"name": "registry/credit@sha256:x",
                                "digest": {"sha256": DIGEST}}]
    assert data["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    assert data["predicate"]["result"] == "PASSED"
    assert data["predicate"]["passedTests"] == PASSED and data["predicate"]["failedTests"] == []
    assert data["predicate"]["configuration"] == [{"name": "harness.yaml",
                                                   "digest": {"sha256": "00" * 32}}]


def test_a_signed_passed_test_result_approved_by_a_release_manager_is_allowed() -> None:
    result = _result()
    assert _decide(result, _approval(result)) is None


def test_no_attestation_is_refused() -> None:
    assert _decide().startswith("attestation check failed: no attestation for artifact "
                                "sha256 abababababab")


def test_a_key_not_in_the_config_is_refused() -> None:
    result = _result(key=STRANGER, keyid="mallory")
    refusal = _decide(result, _approval(result))
    assert refusal.startswith("signature check failed: e0.dsse.json: it is signed by key "
                              "'mallory', which is not among the trusted keys (ci)")


def test_a_stranger_using_a_trusted_keyid_is_refused() -> None:
    result = _result(key=STRANGER, keyid="ci")
    assert "its signature by key 'ci' does not verify" in _decide(result, _approval(result))


def test_an_attestation_for_another_digest_is_refused() -> None:
    result = _result(digest=OTHER)
    refusal = _decide(result, _approval(result, digest=OTHER))
    assert refusal.startswith("subject check failed: the approval attestation e1.dsse.json "
                              "is about artifact sha256 cdcdcdcdcdcd..., not the deployed "
                              "abababababab...")


def test_a_failed_testcase_is_refused() -> None:
    result = _result(failed=("quality.credit.roc_auc",), passed=PASSED[1:])
    assert _decide(result, _approval(result)) == (
        "tests check failed: the test result says FAILED, failed testcase(s): "
        "quality.credit.roc_auc")


def test_a_required_testcase_that_did_not_run_is_refused() -> None:
    result = _result(passed=PASSED[1:])
    assert "required testcase(s) quality.credit.roc_auc did not pass" in _decide(
        result, _approval(result))


def test_a_test_result_of_another_profile_is_refused() -> None:
    result = _result(profile="pr")
    assert "is of profile 'pr', not the release checks' 'release'" in _decide(
        result, _approval(result))


def test_an_approval_by_someone_not_a_release_manager_is_refused() -> None:
    result = _result()
    assert _decide(result, _approval(result, approver="mallory")) == (
        "approval check failed: approved by mallory, who is not among release.managers "
        "(ana, ben)")


def test_expired_evidence_is_refused() -> None:
    result = _result()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=30)
    refusal = _decide(result, _approval(result), now=later)
    assert refusal.startswith("freshness check failed: the test-result of ")
    assert "is 30.0 hours old, more than the 24 allowed" in refusal


@pytest.mark.parametrize("which", [0, 1])
def test_one_byte_changed_in_an_envelope_is_refused(which: int) -> None:
    result = _result()
    envelopes = [result, _approval(result)]
    data = json.loads(envelopes[which])
    payload = bytearray(base64.b64decode(data["payload"]))
    payload[payload.index(b"ana" if which else b"PASSED")] ^= 0x01  # "`na" / "QASSED"
    data["payload"] = base64.b64encode(bytes(payload)).decode()
    envelopes[which] = json.dumps(data).encode()
    refusal = _decide(*envelopes)
    assert refusal.endswith(
        f"signature check failed: e{which}.dsse.json: its signature by key 'ci' does not "
        "verify: the envelope was changed after it was signed")
    # A changed test result fails its signature check; a changed approval is no approval.
    assert refusal.startswith("signature check failed" if which == 0 else
                              "approval check failed: the test result has no approval")


def test_a_byte_changed_in_the_envelope_text_is_refused() -> None:
    result = _result()
    broken = result.replace(b'"payload"', b'"paylaod"')
    assert _decide(broken, _approval(result)).startswith(
        "signature check failed: e0.dsse.json: it is not a DSSE envelope")


def test_a_test_result_with_no_approval_is_refused() -> None:
    assert _decide(_result()) == (
        "approval check failed: the test result has no approval attestation: promote it "
        "with `harness promote` (a release manager's approval)")


def test_an_approval_of_another_test_result_is_refused() -> None:
    first, second = _result(), _result(passed=[*PASSED, "extra.case"])
    refusal = _decide(first, _approval(second))  # the approved result is not here
    assert refusal == ("approval check failed: the approval e1.dsse.json is of another test "
                       "result than the valid one(s)")
