"""Evidence bundles: the candidate they name is a Candidate, read back from a file whose
format is what it always was, and a malformed one is refused with a message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.candidate.identity import build_candidate
from harness.errors import EvidenceError
from harness.history import HistoryStore
from harness.history.release import latest_evidence
from harness.run.evidence import verified_evidence, write_bundle


@pytest.fixture
def bundle(tmp_path: Path):
    artifact = tmp_path / "model.bin"
    artifact.write_bytes(b"a model")
    (tmp_path / "reports/junit").mkdir(parents=True)
    (tmp_path / "reports/junit/checks.xml").write_text("<testsuite/>")
    store = HistoryStore(f"sqlite:///{tmp_path / 'history.db'}")
    candidate = build_candidate(artifact)
    path, evidence = write_bundle(tmp_path / "reports", candidate, "staging", "release", True, 1,
                                  {"config": "c"}, store, tmp_path)
    yield store, candidate, path, evidence
    store.close()


def test_the_bundle_names_the_candidate_as_its_digests_and_reads_back(bundle, tmp_path) -> None:
    store, candidate, path, written = bundle
    data = json.loads(path.read_text())
    assert data["candidate"] == {**candidate.to_dict(), "artifact": str(candidate.artifact)}
    assert set(data) == {"candidate", "environment", "profile", "verdict", "run_id",
                         "created_at", "reports", "digests"}
    evidence, sha = verified_evidence(store, candidate.id, 24, tmp_path)
    assert evidence == written and evidence.candidate == candidate
    record = latest_evidence(store, candidate.id)
    assert record is not None and record.bundle_sha256 == sha and record.run_id == 1


@pytest.mark.parametrize("broken", [
    "not a candidate", {"id": "x"}, {"id": "x", "artifact": "a", "artifact_sha256": 7},
    {"id": "x", "artifact": "a", "artifact_sha256": "s", "colour": "red"}])
def test_a_malformed_candidate_is_an_evidence_error(bundle, tmp_path, broken) -> None:
    store, candidate, path, _ = bundle
    data = json.loads(path.read_text())
    path.write_text(json.dumps({**data, "candidate": broken}))
    with pytest.raises(EvidenceError, match="names no valid candidate .*rerun the release"):
        verified_evidence(store, candidate.id, 24, tmp_path)


def test_a_refused_bundle_names_its_candidate_as_a_field(bundle, tmp_path) -> None:
    store, candidate, path, _ = bundle
    path.write_text(path.read_text().replace('"passed"', '"failed"'))
    with pytest.raises(EvidenceError, match="changed after it was recorded") as raised:
        verified_evidence(store, candidate.id, 24, tmp_path)
    assert raised.value.candidate == candidate.id
    with pytest.raises(EvidenceError, match="no evidence") as raised:
        verified_evidence(store, "0" * 12, 24, tmp_path)
    assert raised.value.candidate == "0" * 12
