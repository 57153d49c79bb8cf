"""Load after promotion, for real: a short Locust run against production once promotion
switched it, judged by ``release.load``'s own SLOs as post-deploy testcases; a failed SLO
rolls production back to what ran before. The candidate's release run is on record from
files (tests/support/staged.py): staging it for real is test_promotion's and test_pipeline's."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from junitparser import JUnitXml

from harness.candidate.artifact import artifact_digest
from harness.config import HarnessConfig, load_config
from harness.deploy import operations
from harness.deploy.registry import get_target
from harness.release.promotion import promote
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port
from tests.support.staged import stage

# Real candidates staged, deployed and promoted: run apart with -m end_to_end.
pytestmark = pytest.mark.end_to_end


def release_config(folder: Path, model_artifact: Path, slos: list[dict[str, object]]
                   ) -> HarnessConfig:
    for name in ("golden", "fixtures", "credit_model"):
        shutil.copytree(EXAMPLE / name, folder / name)
    write_config(
        folder, model={"artifact": str(model_artifact)},
        environments={"staging": {"port": free_port()}, "production": {"port": free_port()}},
        deploy={"target": "local", "ready_timeout_s": 60},
        profiles={"release": {"checks": ["schema"], "environment": "staging"}},
        release={"managers": ["ana"], "evidence_max_age_hours": 24,
                 "load": {"users": 2, "spawn_rate": 10, "run_time_s": 2, "max_requests": 200,
                          "workers": 1, "slos": slos}},
    )
    return load_config(folder / "harness.yaml")


@pytest.fixture
def stopper() -> Iterator[list[HarnessConfig]]:
    configs: list[HarnessConfig] = []
    yield configs
    for config in configs:
        for env in ("staging", "production"):
            get_target(config).stop(env)  # teardown: past the protection


def _cases(junit: Path) -> dict[str, bool]:
    suite = next(iter(JUnitXml.fromfile(str(junit))))
    return {f"{case.classname}.{case.name}": case.is_passed for case in suite}


def test_production_under_load_within_its_slos_is_promoted(
        tmp_path: Path, model_artifact: Path, stopper: list[HarnessConfig]) -> None:
    config = release_config(tmp_path, model_artifact, [
        {"endpoint": "overall", "metric": "error_ratio", "max": 0.05},
        {"endpoint": "/predict", "metric": "p95_ms", "max": 5000},
    ])
    stopper.append(config)
    result = promote(config, stage(config).id, "ana", tmp_path / "reports")
    assert result.promoted, result.message
    cases = _cases(result.junit)
    assert cases["post_deploy.load.overall.error_ratio"] is True
    assert cases["post_deploy.load.predict.p95_ms"] is True
    assert (tmp_path / "reports/promotion/load/locust_stats.csv").is_file()


def test_production_that_misses_its_load_slo_is_rolled_back(
        tmp_path: Path, model_artifact: Path, second_artifact: Path,
        stopper: list[HarnessConfig]) -> None:
    # No shared two-core host serves a million requests a second: the SLO fails for real.
    config = release_config(tmp_path, model_artifact, [
        {"endpoint": "overall", "metric": "rps", "min": 1_000_000}])
    stopper.append(config)
    before = get_target(config).deploy("production",  # what ran before, set up directly
                                       operations.candidate_for(config, model_artifact))
    result = promote(config, stage(config, second_artifact).id, "ana", tmp_path / "reports")
    assert not result.promoted
    assert "post_deploy.load.overall.rps" in result.message
    assert f"rolled back to candidate {before.candidate.id}" in result.message
    assert _cases(result.junit)["post_deploy.load.overall.rps"] is False
    served = httpx.get(f"{config.environment_url('production')}/version", timeout=5).json()
    assert served["artifact_sha256"] == artifact_digest(model_artifact)
