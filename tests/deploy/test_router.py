"""An nginx in front of an environment's port: deploys under load lose no request."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.candidate.identity import build_candidate
from harness.config import HarnessConfig
from harness.deploy.local import LocalTarget
from harness.deploy.router import NginxRouter
from harness.deploy.state import env_dir, load_state
from harness.errors import DeployError
from harness.processes import pid_alive
from tests.support.load_loop import LoadLoop
from tests.support.local_target import local_config, stop_routed, tampered_copy
from tests.support.service_process import free_port

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


def routed_config(folder: Path, artifact: Path,
                  routed: tuple[str, ...] = ("production",)) -> HarnessConfig:
    return local_config(folder, artifact, environments={
        env: {"port": free_port(), **({"router": "nginx"} if env in routed else {})}
        for env in ("staging", "production")})


@pytest.fixture
def config(tmp_path: Path, model_artifact: Path) -> Iterator[HarnessConfig]:
    config = routed_config(tmp_path, model_artifact)
    try:
        yield config
    finally:
        stop_routed(config)


@pytest.mark.end_to_end
def test_a_deploy_under_load_loses_no_request_and_switches_the_digest(
    config: HarnessConfig, model_artifact: Path, second_artifact: Path
) -> None:
    target = LocalTarget(config)
    first, second = build_candidate(model_artifact), build_candidate(second_artifact)
    url = config.environments["production"].address()
    assert target.deploy("production", first).revision == 1

    with LoadLoop(f"{url}/version") as load:
        deployed = target.deploy("production", second)
        after_deploy = httpx.get(f"{url}/version", timeout=5).json()["artifact_sha256"]
        rolled_back = target.rollback("production")
    print(f"\n{len(load.log.answers)} answers, {len(load.log.failures)} failures, "
          f"longest gap {load.log.longest_gap_s() * 1000:.1f} ms")
    assert load.log.failures == []
    assert after_deploy == second.artifact_sha256
    # Answers of old workers still in flight may land just after the first of the new ones.
    served = load.log.digests()
    assert served[0] == served[-1] == first.artifact_sha256 and second.artifact_sha256 in served
    assert httpx.get(f"{url}/version", timeout=5).json()["artifact_sha256"] \
        == first.artifact_sha256
    assert (deployed.revision, rolled_back.revision) == (2, 3)

    state = load_state(env_dir(config.resolve(config.deploy.state_dir), "production"))
    assert state is not None and state.router is not None
    assert (state.current, state.router.revision) == (3, 3)
    assert state.router.retiring_pid is None and state.starting_pid is None
    status = target.status("production")
    assert status is not None and status.healthy
    assert "routes to revision 3" in status.detail

    target.stop("production")
    router = NginxRouter("production", env_dir(config.resolve(config.deploy.state_dir),
                                               "production") / "router", "127.0.0.1", 1)
    assert router.pid() is None
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/version", timeout=2)


def test_a_revision_that_is_not_ready_leaves_the_router_on_the_old_one(
    config: HarnessConfig, tmp_path: Path, model_artifact: Path
) -> None:
    broken = tampered_copy(model_artifact, tmp_path / "broken")
    good, bad = build_candidate(model_artifact), build_candidate(broken)
    target = LocalTarget(config, ready_timeout_s=12)
    target.deploy("production", good)
    url = config.environments["production"].address()

    with LoadLoop(f"{url}/version", users=2) as load, pytest.raises(DeployError) as excinfo:
        target.deploy("production", bad)
    assert f"the router still routes to revision 1 (candidate {good.id})" in str(excinfo.value)
    assert load.log.failures == [] and load.log.digests() == [good.artifact_sha256]
    state = load_state(env_dir(config.resolve(config.deploy.state_dir), "production"))
    assert state is not None and state.router is not None
    assert (state.current, state.router.revision, [r.revision for r in state.revisions]) \
        == (1, 1, [1])
    assert state.starting_pid is None


def test_a_router_without_nginx_is_refused_naming_the_key(
    tmp_path: Path, model_artifact: Path
) -> None:
    config = routed_config(tmp_path, model_artifact, routed=("staging",))
    python_only = str(Path(sys.executable).parent)  # no /usr/sbin: no nginx
    result = subprocess.run(
        [sys.executable, "-m", "harness", "--config", str(config.source),
         "deploy", "--env", "staging"],
        cwd=config.root, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PATH": python_only},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("harness: error: environments.staging.router is 'nginx' "
                                    "but nginx is not on PATH; install it (apt-get install nginx")
    assert "Traceback" not in result.stderr
    assert not env_dir(config.resolve(config.deploy.state_dir), "staging").exists()


def test_a_deploy_killed_midway_leaves_the_old_revision_serving_and_the_next_settles_it(
    tmp_path: Path, model_artifact: Path, second_artifact: Path
) -> None:
    config = routed_config(tmp_path, model_artifact, routed=("staging",))
    folder = env_dir(config.resolve(config.deploy.state_dir), "staging")
    target = LocalTarget(config)
    url = config.environments["staging"].address()
    try:
        first = target.deploy("staging", build_candidate(model_artifact))
        command = subprocess.Popen(
            [sys.executable, "-m", "harness", "--config", str(config.source), "deploy",
             "--env", "staging", "--artifact", str(second_artifact)],
            cwd=config.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Killed while the new revision is starting (the state records it before waiting).
        for _ in range(3000):
            state = load_state(folder)
            if (state and state.starting_pid) or command.poll() is not None:
                break
            time.sleep(0.01)
        command.kill()
        command.wait(timeout=30)
        state = load_state(folder)
        assert state is not None and state.starting_pid is not None, "killed too late"
        leftover = state.starting_pid
        assert version_of(url) == first.candidate.artifact_sha256, "still serving the old one"

        again = target.deploy("staging", build_candidate(second_artifact))
        assert not pid_alive(leftover), "the next deploy stopped what the killed one left"
        assert version_of(url) == again.candidate.artifact_sha256
        state = load_state(folder)
        assert state is not None and state.router is not None
        assert state.router.revision == state.current == again.revision
    finally:
        target.stop("staging")


def version_of(url: str) -> str:
    return str(httpx.get(f"{url}/version", timeout=5).json()["artifact_sha256"])
