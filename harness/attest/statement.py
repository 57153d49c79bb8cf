"""The two in-toto Statements (v1) a release leaves: a test result, when the release checks
against staging pass, and an approval, at promotion. Both are about the candidate's
artifact digest (``subject``).

The test result uses in-toto's ``test-result`` predicate (v0.1): ``result``,
``passedTests``, ``warnedTests``, ``failedTests``, and ``configuration`` (resource
descriptors: the config file, each golden manifest, the evidence bundle and every report,
by sha256). The harness adds one field, ``harness``: the candidate id, project, profile,
environment, run id and ``createdAt`` (what freshness is judged by).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from harness.clock import utc_now

STATEMENT = "https://in-toto.io/Statement/v1"
TEST_RESULT = "https://in-toto.io/attestation/test-result/v0.1"
APPROVAL = "https://harness.dev/approval/v1"
KINDS = {TEST_RESULT: "test-result", APPROVAL: "approval"}



def payload_digest(payload: bytes) -> str:
    """What an approval names a test result by: the sha256 of its signed statement."""
    return hashlib.sha256(payload).hexdigest()


def _statement(name: str, artifact_sha256: str, predicate_type: str,
               predicate: dict[str, Any]) -> bytes:
    data = {"_type": STATEMENT,
            "subject": [{"name": name, "digest": {"sha256": artifact_sha256}}],
            "predicateType": predicate_type, "predicate": predicate}
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def result_statement(name: str, artifact_sha256: str, passed: list[str], failed: list[str],
                configuration: dict[str, str], harness: dict[str, Any],
                warned: list[str] | None = None) -> bytes:
    """A test-result Statement; ``configuration`` is name -> sha256 of each input and report."""
    predicate = {
        "result": "FAILED" if failed else ("WARNED" if warned else "PASSED"),
        "passedTests": sorted(passed), "warnedTests": sorted(warned or []),
        "failedTests": sorted(failed),
        "configuration": [{"name": key, "digest": {"sha256": value}}
                          for key, value in sorted(configuration.items())],
        "harness": {"createdAt": utc_now(), **harness},
    }
    return _statement(name, artifact_sha256, TEST_RESULT, predicate)


def approval_statement(name: str, artifact_sha256: str, approver: str, candidate: str,
             environment: str, test_result_sha256: str) -> bytes:
    """An approval Statement: who let which tested candidate into which environment, when."""
    predicate = {"approver": approver, "approvedAt": utc_now(), "candidate": candidate,
                 "environment": environment,
                 "testResult": {"digest": {"sha256": test_result_sha256}}}
    return _statement(name, artifact_sha256, APPROVAL, predicate)


@dataclass(frozen=True)
class Statement:
    """A parsed Statement: what it is about and what it says."""

    predicate_type: str
    subjects: list[str]  # sha256 digests
    predicate: dict[str, Any]

    @property
    def kind(self) -> str:
        return KINDS.get(self.predicate_type, self.predicate_type)

    @property
    def at(self) -> str:
        """When it was made (a test result's createdAt, an approval's approvedAt)."""
        if self.predicate_type == APPROVAL:
            return str(self.predicate.get("approvedAt", ""))
        return str((self.predicate.get("harness") or {}).get("createdAt", ""))

    def time(self) -> dt.datetime | None:
        try:
            moment = dt.datetime.fromisoformat(self.at)
        except ValueError:
            return None
        return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse(payload: bytes) -> Statement:
    """A Statement from its bytes; ``ValueError`` (``TypeError``) names what is wrong with it."""
    try:
        data = json.loads(payload)
    except ValueError:
        raise ValueError("its payload is not JSON") from None
    if not isinstance(data, dict) or data.get("_type") != STATEMENT:
        raise ValueError(f"its payload is not an in-toto Statement v1 (_type {STATEMENT})")
    subjects = data.get("subject")
    predicate = data.get("predicate")
    if not isinstance(subjects, list) or not isinstance(predicate, dict):
        raise TypeError("its Statement has no subject list or no predicate")
    digests = [str((s.get("digest") or {}).get("sha256")) for s in subjects
               if isinstance(s, dict)]
    return Statement(str(data.get("predicateType")), digests, predicate)
