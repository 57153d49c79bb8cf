"""Promotion on the local target, for real: a staged candidate promoted with its audit trail,
post-deploy checks, automatic rollback, and recovery from a promotion killed midway. Its
refusals are tested from files in test_promotion_refusals.py.

One candidate is staged for real (deployed to staging, its release checks run there) and
``harness run`` stages one itself; the other tests promote candidates whose release run is
on record from files (tests/support/staged.py): what they test starts at the promotion."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.candidate.identity import Candidate
from harness.config import HarnessConfig
from harness.deploy import operations
from harness.deploy.registry import get_target
from harness.history import HistoryStore
from harness.history.release import Lock, audit_trail
from harness.release.promotion import promote
from harness.release.recovery import LOCK
from harness.run.engine import run_check
from tests.support.staged import audit as _audit
from tests.support.staged import release_project, stage

# Real candidates staged, deployed and promoted: run apart with -m end_to_end.
pytestmark = pytest.mark.end_to_end


@pytest.fixture
def release(tmp_path: Path, model_artifact: Path) -> Iterator[HarnessConfig]:
    """The reference project with its own loopback ports, state and history; its release
    checks (quality over HTTP against staging) run in a few seconds; promotion tests inject
    faults in production through the promoting process (pass_env)."""
    config = release_project(tmp_path, model_artifact)
    yield config
    for env in ("staging", "production"):
        get_target(config).stop(env)  # teardown: past the protection


def _stage(config: HarnessConfig, artifact: Path | None = None) -> Candidate:
    """Deploy to staging and run the release checks there, for real; returns the staged
    candidate."""
    candidate = operations.candidate_for(config, artifact)
    operations.deploy(config, "staging", candidate)
    run = run_check(config, "release", config.root / "reports")
    assert run.evidence is not None
    return candidate


def _served_sha(config: HarnessConfig, env: str) -> str:
    return httpx.get(f"{config.environment_url(env)}/version", timeout=5).json()[
        "artifact_sha256"]


def test_a_staged_candidate_is_promoted_with_an_audit_trail(release: HarnessConfig) -> None:
    candidate = _stage(release)
    result = promote(release, candidate.id, "ana", release.root / "reports")
    assert result.promoted, result.message
    assert _served_sha(release, "production") == candidate.artifact_sha256
    assert _audit(release) == [(candidate.id, "promote", "started"),
                               (candidate.id, "promote", "promoted")]
    junit = (result.junit or Path()).read_text()
    assert 'name="approver"' in junit and 'name="version"' in junit and "<failure" not in junit


def test_a_candidate_failing_its_post_deploy_checks_is_rolled_back(release, monkeypatch,
                                                                   second_artifact) -> None:
    first = stage(release)
    assert promote(release, first.id, "ana", release.root / "reports").promoted
    second = stage(release, second_artifact)
    # Production answers with injected errors once the second candidate runs there: the
    # config passes the variable on (pass_env) and this promotion's environment has it. The
    # rollback restarts the first revision as it ran, without it. (The server draws its
    # faults from a seeded generator: its first prediction, the readiness record, passes;
    # the quality check's batches meet a 500.)
    monkeypatch.setenv("HARNESS_INJECT_ERROR_RATE", "0.5")
    result = promote(release, second.id, "ana", release.root / "reports")
    assert not result.promoted
    assert "failed its post-deploy checks" in result.message and "rolled back" in result.message
    deployment = operations.status(release, ["production"])["production"]
    assert deployment is not None and deployment.candidate.id == first.id
    assert deployment.healthy, deployment.detail  # it scores a golden record again
    assert _audit(release)[-1] == (second.id, "promote", "rolled back")


def _harness(config: HarnessConfig, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=config.root,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_a_promotion_killed_midway_is_found_and_undone(release, second_artifact) -> None:
    first = stage(release)
    assert promote(release, first.id, "ana", release.root / "reports").promoted
    second = stage(release, second_artifact)

    process = _harness(release, "promote", "--candidate", second.id, "--approver", "ana")
    store = HistoryStore(release.history_url())
    lock = Lock(store, LOCK, "test")
    deadline = time.monotonic() + 60
    while (holder := lock.read()) is None or holder.journal.get("phase") != "deploying":
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
        time.sleep(0.02)
    time.sleep(0.5)  # inside the deploy: the old service stopped, the new one starting
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    status = subprocess.run([sys.executable, "-m", "harness", "status"], cwd=release.root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert status.returncode == 1, status.stdout + status.stderr
    assert (f"an interrupted promotion was found: a promotion of candidate {second.id} by ana"
            in status.stdout)
    assert (f"stopped during 'deploying'; `harness recover` would restore candidate {first.id} "
            "in production") in status.stdout
    assert lock.read() is not None, "status only reads"

    recovery = _harness(release, "recover", "--by", "ben")
    output, _ = recovery.communicate(timeout=120)
    assert recovery.returncode == 0, output
    assert f"found a promotion of candidate {second.id} by ana" in output
    assert "stopped during 'deploying'" in output
    deployment = operations.status(release, ["production"])["production"]
    assert deployment is not None and deployment.healthy
    assert deployment.candidate.id == first.id
    assert _served_sha(release, "production") == first.candidate.artifact_sha256
    assert lock.read() is None
    trail = _audit(release)
    assert trail[-2:] == [(second.id, "promote", "started"), (second.id, "recover", "recovered")]
    store.close()


def test_harness_run_takes_a_candidate_from_checks_to_production(release) -> None:
    data = json.loads(json.dumps(release.model_dump(by_alias=True, mode="json")))
    data["profiles"]["pr"] = {"checks": ["schema"]}
    (release.root / "harness.yaml").write_text(json.dumps(data))
    process = _harness(release, "run", "--approver", "ana")
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    assert "== 5/5 what runs where" in output
    assert "production: healthy, candidate" in output
    status = _harness(release, "status", "--env", "production")
    assert status.communicate(timeout=60)[0].startswith("production: healthy")


def test_a_failing_first_promotion_leaves_production_empty(release, monkeypatch) -> None:
    """Nothing ran in production before: a candidate failing its post-deploy checks is
    stopped (fail closed), the exit is 1, the CLI names the failing checks and the audit
    records the cause and the stop."""
    candidate = stage(release)
    # The promotion's environment has a fault on a share of predictions, which the config
    # passes on; drawn from a seeded generator: the readiness record passes, the quality
    # check's batches fail.
    monkeypatch.setenv("HARNESS_INJECT_ERROR_RATE", "0.5")
    process = _harness(release, "promote", "--candidate", candidate.id, "--approver", "ana")
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 1, output
    assert "failed its post-deploy checks in production: post_deploy.credit-v1.roc_auc" in output
    assert "so it was stopped and production is empty" in output
    deployment = operations.status(release, ["production"])["production"]
    assert deployment is not None and not deployment.healthy and deployment.detail == "stopped"
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{release.environment_url('production')}/health", timeout=2)
    store = HistoryStore(release.history_url())
    try:
        last = audit_trail(store)[-1]
    finally:
        store.close()
    assert (last.candidate_id, last.outcome) == (candidate.id, "stopped")
    assert "post_deploy.credit-v1.roc_auc" in last.detail and "stopped" in last.detail


def _cli(config: HarnessConfig, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=config.root,
                          capture_output=True, text=True, timeout=300, check=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_a_refused_promotion_keeps_the_last_promotions_report(release: HarnessConfig) -> None:
    candidate = stage(release)
    reports = release.root / "reports"
    assert promote(release, candidate.id, "ana", reports).promoted
    junit = reports / "promotion/junit"
    kept = (junit / "promotion.xml").read_bytes()
    before = _files(reports / "release")

    result = _cli(release, "promote", "--candidate", candidate.id, "--approver", "mallory")
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("harness: error:") == 1
    assert result.stderr.startswith("harness: error: mallory may not approve promotions: not "
                                    f"among release.managers in {release.source}")
    assert (junit / "promotion.xml").read_bytes() == kept, "the real promotion's report stays"
    refusal = (junit / "promotion-refused.xml").read_text()
    assert "<failure" in refusal and "mallory" in refusal
    assert _files(reports / "release") == before
    deployment = operations.status(release, ["production"])["production"]
    assert deployment is not None and deployment.candidate.id == candidate.id

    # The next real promotion's report replaces the stale refusal, so Jenkins shows one story.
    assert promote(release, candidate.id, "ana", reports).promoted
    assert not (junit / "promotion-refused.xml").exists()
