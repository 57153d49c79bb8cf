"""Promotion's refusals, from files: each case is a staged candidate's release reports,
evidence bundle, SQLite history and signed test result, written in a temporary folder by
``tests/support/staged.py``; ``promote`` (or the CLI's ``main``) runs in this process and
must refuse with its message, deploy nothing and audit the refusal. The real releases
(promoted, rolled back, killed midway) are in test_promotion.py, marked end_to_end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from harness.attest import store as attestations
from harness.candidate.publish import candidate_from_reference
from harness.config import HarnessConfig
from harness.deploy import operations
from harness.errors import AttestationError, EvidenceError, PromotionRefused
from harness.history import HistoryStore
from harness.history.release import Lock
from harness.release.promotion import promote
from harness.release.recovery import LOCK
from tests.support.cli import in_process
from tests.support.oci_registry import RunningRegistry, registry_fixture
from tests.support.published import publish
from tests.support.staged import audit as _audit
from tests.support.staged import backdate, release_project, stage


@pytest.fixture
def release(tmp_path: Path, model_artifact: Path) -> HarnessConfig:
    return release_project(tmp_path / "project", model_artifact)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _nothing_deployed(config: HarnessConfig) -> None:
    assert operations.status(config, ["production"])["production"] is None, "nothing deployed"


def test_refusals_fail_closed_and_are_audited(release: HarnessConfig,
                                              second_artifact: Path) -> None:
    candidate = stage(release)
    reports = release.root / "reports"
    with pytest.raises(PromotionRefused, match="mallory may not approve promotions"):
        promote(release, candidate.id, "mallory", reports)
    other = operations.candidate_for(release, second_artifact)
    with pytest.raises(EvidenceError, match=f"no evidence for candidate {other.id}"):
        promote(release, other.id, "ana", reports)

    holder = Lock(HistoryStore(release.history_url()), LOCK, "ben")
    holder.acquire({"candidate": "c0ffee", "phase": "deploying"})  # this live process holds it
    with pytest.raises(PromotionRefused, match="another promotion holds the lock: candidate "
                                               "c0ffee by ben"):
        promote(release, candidate.id, "ana", reports)
    holder.release()

    bundle = reports / "release/evidence.json"
    edited = json.loads(bundle.read_text()) | {"run_id": 999}
    bundle.write_text(json.dumps(edited))
    with pytest.raises(EvidenceError, match="was changed after it was recorded"):
        promote(release, candidate.id, "ana", reports)

    _nothing_deployed(release)
    outcomes = [outcome for _, _, outcome in _audit(release)]
    assert outcomes == ["refused"] * 4


def test_evidence_replaced_by_another_candidates_is_refused(release: HarnessConfig,
                                                            second_artifact: Path) -> None:
    first = stage(release)
    second = stage(release, second_artifact)  # its release run writes the same report folder
    with pytest.raises(EvidenceError, match=f"now holds the evidence of candidate {second.id}, "
                                            f"not {first.id}"):
        promote(release, first.id, "ana", release.root / "reports")
    _nothing_deployed(release)
    assert _audit(release) == [(first.id, "promote", "refused")]


def test_failing_evidence_is_refused(release: HarnessConfig) -> None:
    candidate = stage(release, passed=False)
    with pytest.raises(EvidenceError, match="release checks of candidate .* failed"):
        promote(release, candidate.id, "ana", release.root / "reports")
    _nothing_deployed(release)


def test_stale_evidence_is_refused(tmp_path: Path, model_artifact: Path) -> None:
    hasty = release_project(tmp_path, model_artifact,
                            release={"managers": ["ana"], "evidence_max_age_hours": 1})
    candidate = stage(hasty)
    backdate(hasty, candidate, hours=2)
    with pytest.raises(EvidenceError, match="is 2.0 hours old, more than the 1 allowed"):
        promote(hasty, candidate.id, "ana", hasty.root / "reports")
    _nothing_deployed(hasty)


def test_a_promotion_under_another_config_than_its_evidence_is_refused(
        release: HarnessConfig) -> None:
    candidate = stage(release)
    config_file = release.root / "harness.yaml"
    data = json.loads(json.dumps(release.model_dump(by_alias=True, mode="json")))
    data["gates"]["quality"]["precision"]["min"] = 0.5  # looser than what the checks judged
    config_file.write_text(json.dumps(data))
    reports = release.root / "reports"
    before = _files(reports)
    store = HistoryStore(release.history_url())
    runs = store.runs()
    store.close()

    result = in_process(config_file, "promote", "--candidate", candidate.id, "--approver", "ana",
                        cwd=release.root)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("harness: error:") == 1
    message = result.stderr
    assert f"candidate {candidate.id} was tested under other inputs: the configuration " \
           f"{config_file} (sha256 " in message
    assert "is not what the release checks ran under (evidence records " in message
    assert "golden data" not in message, "only what differs is named"
    assert "Rerun the release checks under this configuration (harness check --profile " \
           "release)" in message

    _nothing_deployed(release)
    after = _files(reports)
    assert after.pop("promotion/junit/promotion-refused.xml")
    assert after == before, "the release reports and evidence are untouched"
    store = HistoryStore(release.history_url())
    assert store.runs() == runs, "no run recorded"
    store.close()
    assert _audit(release)[-1] == (candidate.id, "promote", "refused")


def test_a_promotion_without_the_signed_test_result_is_refused_before_the_deploy(
        release: HarnessConfig) -> None:
    candidate = stage(release)
    kept = attestations.folder(release, candidate.candidate.artifact_sha256)
    [signed] = list(kept.glob("test-result-*.dsse.json"))
    data = json.loads(signed.read_text())
    data["payload"] = data["payload"][:-8] + ("A" * 8 if data["payload"][-8:] != "A" * 8
                                              else "B" * 8)
    signed.write_text(json.dumps(data))  # one changed payload: its signature fails
    with pytest.raises(AttestationError, match="may not enter a protected environment: "
                                               "signature check failed"):
        promote(release, candidate.id, "ana", release.root / "reports")
    shutil.rmtree(kept)
    with pytest.raises(AttestationError, match="attestation check failed: no attestation"):
        promote(release, candidate.id, "ana", release.root / "reports")
    _nothing_deployed(release)
    assert [outcome for _, _, outcome in _audit(release)] == ["refused", "refused"]


registry = pytest.fixture(registry_fixture)


def test_promoting_a_reference_that_staging_never_ran_is_refused(
        tmp_path: Path, model_artifact: Path, second_artifact: Path,
        registry: RunningRegistry) -> None:
    """Two published candidates, the first with its release run on record: the second's
    reference has no evidence, and the refusal deploys nothing."""
    release = release_project(tmp_path / "project", model_artifact,
                              registry={"host": registry.host, "repository": "credit/model",
                                        "insecure": True})
    staged = publish(release)
    unstaged = publish(release, "--artifact", str(second_artifact))
    stage(release, candidate=candidate_from_reference(release, staged))
    result = in_process(release.source, "promote", "--candidate", unstaged, "--approver", "ana",
                        "--reports", str(release.root / "reports"))
    assert result.returncode == 2
    assert "no evidence for candidate" in result.stderr
    _nothing_deployed(release)
