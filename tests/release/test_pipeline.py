"""Build once, promote by digest: the candidate is published to a real registry, and
staging, the release checks and production all run the bytes pulled by that digest. After
publishing, the local artifact and the training code are gone from the project, so
nothing on the promotion path can train or copy local bytes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.candidate.artifact import artifact_digest
from harness.config import HarnessConfig, load_config
from harness.deploy import operations
from harness.deploy.registry import get_target
from harness.release.pipeline import run_release
from tests.support.oci_registry import RunningRegistry, registry_fixture
from tests.support.project import EXAMPLE, write_config
from tests.support.published import harness, publish
from tests.support.service_process import free_port

# Real candidates staged, deployed and promoted: run apart with -m end_to_end.
pytestmark = pytest.mark.end_to_end

registry = pytest.fixture(registry_fixture)


@pytest.fixture
def release(tmp_path: Path, model_artifact: Path, registry: RunningRegistry
            ) -> Iterator[HarnessConfig]:
    folder = tmp_path / "project"
    for name in ("golden", "fixtures", "credit_model"):
        shutil.copytree(EXAMPLE / name, folder / name)
    shutil.copytree(model_artifact, folder / "artifacts" / "credit")
    write_config(
        folder, model={"artifact": "artifacts/credit"},
        registry={"host": registry.host, "repository": "credit/model", "insecure": True},
        environments={"staging": {"port": free_port()}, "production": {"port": free_port()}},
        deploy={"target": "local", "ready_timeout_s": 60},
        profiles={"pr": {"checks": ["schema"]},
                  "release": {"checks": ["quality"], "environment": "staging"}},
        release={"managers": ["ana"], "evidence_max_age_hours": 24},
    )
    config = load_config(folder / "harness.yaml")
    yield config
    for env in ("staging", "production"):
        get_target(config).stop(env)  # teardown: past the protection


def test_publish_stage_check_and_promote_by_digest_without_training(
        release: HarnessConfig, model_artifact: Path) -> None:
    reference = publish(release)
    # Built once: the promotion path has neither the local model nor the code that trains it.
    shutil.rmtree(release.root / "artifacts")
    (release.root / "credit_model" / "train.py").unlink()

    for step in (("deploy", "--env", "staging", "--candidate", reference),
                 ("check", "--profile", "release", "--reports", str(release.root / "reports")),
                 ("promote", "--candidate", reference, "--approver", "ana",
                  "--reports", str(release.root / "reports"))):
        result = harness(release, *step)
        assert result.returncode == 0, (step, result.stdout, result.stderr)

    for env in ("staging", "production"):
        served = httpx.get(f"{release.environment_url(env)}/version", timeout=5).json()
        assert served["model_reference"] == reference, env
        assert served["artifact_sha256"] == artifact_digest(model_artifact), env
    evidence = json.loads((release.root / "reports/release/evidence.json").read_text())
    assert evidence["candidate"]["reference"] == reference
    production = operations.status(release, ["production"])["production"]
    assert production is not None and production.candidate.reference == reference
    assert production.candidate.id == evidence["candidate"]["id"]

    # Walking around the promotion is refused, and production stays as it is.
    around = harness(release, "deploy", "--env", "production", "--candidate", reference)
    assert around.returncode == 2 and "environment production is protected" in around.stderr
    assert operations.status(release, ["production"])["production"] == production
    # The signed test result and approval are in the registry, attached to the model.
    shutil.rmtree(release.state_dir() / "attestations" / f"sha256-{production.artifact_sha256}")
    verified = harness(release, "verify", reference)
    assert verified.returncode == 0, verified.stdout
    assert "test-result  signed by local (the local-only key)" in verified.stdout
    assert "PASSED" in verified.stdout and "approved by ana for production" in verified.stdout


def test_harness_run_publish_takes_the_release_through_the_registry(
        release: HarnessConfig) -> None:
    said: list[str] = []
    assert run_release(release, "ana", release.root / "reports", said.append,
                       publish_first=True), "\n".join(said)
    [published] = [line.removeprefix("published ") for line in said
                   if line.startswith("published ")]
    served = httpx.get(f"{release.environment_url('production')}/version", timeout=5).json()
    assert served["model_reference"] == published
    assert any(line.startswith("production: healthy") and f"model {published}" in line
               for line in said), said
