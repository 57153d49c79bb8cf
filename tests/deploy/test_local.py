"""The ``local`` deploy target end to end: real service processes on loopback ports."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from harness.candidate.identity import Candidate, build_candidate
from harness.config import HarnessConfig
from harness.deploy import DeployTarget, get_target
from harness.deploy.local import LocalTarget
from harness.deploy.state import env_dir, load_state
from harness.errors import DeployError
from harness.processes import pid_alive, port_is_free
from tests.support.cli import in_process
from tests.support.local_target import local_config, tampered_copy
from tests.support.project import EXAMPLE, ROOT


def _kill_recorded(config: HarnessConfig) -> None:
    """Whatever a test left running, stop it (the processes are detached on purpose)."""
    for env in config.environments:
        state = load_state(env_dir(config.resolve(config.deploy.state_dir), env))
        if state and state.pid and pid_alive(state.pid):
            os.killpg(state.pid, signal.SIGKILL)


@pytest.fixture
def config(tmp_path: Path, model_artifact: Path) -> Iterator[HarnessConfig]:
    config = local_config(tmp_path, model_artifact)
    try:
        yield config
    finally:
        target = get_target(config)
        for env in config.environments:
            target.stop(env)
        _kill_recorded(config)


def version(url: str) -> dict[str, str]:
    response = httpx.get(f"{url}/version", timeout=5)
    response.raise_for_status()
    return response.json()


def test_the_local_target_is_found_by_name_and_is_a_deploy_target(config: HarnessConfig) -> None:
    target = get_target(config)
    assert isinstance(target, LocalTarget) and isinstance(target, DeployTarget)
    assert target.status("staging") is None


def test_deploy_redeploy_and_roll_back(
    config: HarnessConfig, tmp_path: Path, model_artifact: Path, second_artifact: Path
) -> None:
    build = tmp_path / "build"
    shutil.copytree(model_artifact, build)
    target = get_target(config)
    first = build_candidate(build, source=ROOT)
    second = build_candidate(second_artifact, source=ROOT)
    assert first.id != second.id and first.artifact_sha256 != second.artifact_sha256

    deployed = target.deploy("staging", first)
    assert deployed.healthy and deployed.revision == 1
    assert deployed.url == f"http://127.0.0.1:{config.environments['staging'].port}"
    assert version(deployed.url)["artifact_sha256"] == first.artifact_sha256
    assert target.status("production") is None, "environments are independent"

    deployed = target.deploy("staging", second)
    assert deployed.revision == 2
    assert version(deployed.url)["artifact_sha256"] == second.artifact_sha256

    shutil.rmtree(build)  # a rollback runs the deployed copy, not the build folder
    rolled_back = target.rollback("staging")
    assert (rolled_back.revision, rolled_back.candidate) == (3, first)
    assert version(rolled_back.url)["artifact_sha256"] == first.artifact_sha256
    status = target.status("staging")
    assert status is not None and status.healthy and status.candidate.id == first.id

    # As with `kubectl rollout undo`, undoing again goes back to what was undone.
    assert target.rollback("staging").candidate == second
    assert version(deployed.url)["artifact_sha256"] == second.artifact_sha256


def test_a_broken_candidate_fails_readiness_and_the_previous_revision_keeps_serving(
    config: HarnessConfig, tmp_path: Path, model_artifact: Path
) -> None:
    broken = tampered_copy(model_artifact, tmp_path / "broken")
    good = build_candidate(model_artifact)
    bad = build_candidate(broken)
    LocalTarget(config).deploy("staging", good)

    with pytest.raises(DeployError) as excinfo:
        LocalTarget(config, ready_timeout_s=12).deploy("staging", bad)
    message = str(excinfo.value)
    assert f"candidate {bad.id} (revision 2) was refused: not ready" in message
    assert f"revision 1 (candidate {good.id}) serves again" in message
    assert "does not match metadata.json" in message, "the last /ready answer says why"

    status = get_target(config).status("staging")
    assert status is not None and status.healthy and status.revision == 1
    assert version(status.url or "")["artifact_sha256"] == good.artifact_sha256
    state = load_state(env_dir(config.resolve(config.deploy.state_dir), "staging"))
    assert state is not None and [r.revision for r in state.revisions] == [1]
    assert not (env_dir(config.resolve(config.deploy.state_dir), "staging")
                / "revisions/2/artifact").exists()


def test_a_first_deploy_that_never_gets_ready_leaves_nothing_running(
    config: HarnessConfig, tmp_path: Path
) -> None:
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    (broken / "model.joblib").write_bytes(b"no model")
    with pytest.raises(DeployError, match="nothing was running before"):
        LocalTarget(config, ready_timeout_s=3).deploy("staging", build_candidate(broken))
    assert get_target(config).status("staging") is None
    assert port_is_free("127.0.0.1", config.environments["staging"].port or 0)


def test_a_dead_process_is_reported_unhealthy_and_stop_frees_the_port(
    config: HarnessConfig, model_artifact: Path
) -> None:
    target = get_target(config)
    deployed = target.deploy("production", build_candidate(model_artifact))
    pid = int(deployed.detail.removeprefix("pid "))
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    status = target.status("production")
    assert status is not None and not status.healthy
    assert f"its process (pid {pid}) is not running" in status.detail

    target.deploy("production", build_candidate(model_artifact))
    target.stop("production")
    port = config.environments["production"].port or 0
    assert port_is_free("127.0.0.1", port)
    status = target.status("production")
    assert status is not None and not status.healthy and status.detail == "stopped"
    with pytest.raises(DeployError, match="nothing is running in environment 'production'"):
        target.wait_ready("production", 1)


def test_rolling_back_without_a_previous_revision_is_refused(
    config: HarnessConfig, model_artifact: Path
) -> None:
    target = get_target(config)
    with pytest.raises(DeployError, match="nothing was deployed to environment 'staging'"):
        target.rollback("staging")
    target.deploy("staging", build_candidate(model_artifact))
    with pytest.raises(DeployError, match="no revision before revision 1"):
        target.rollback("staging")
    status = target.status("staging")
    assert status is not None and status.healthy and status.revision == 1


def test_an_occupied_port_is_named(config: HarnessConfig, model_artifact: Path) -> None:
    port = config.environments["staging"].port or 0
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with pytest.raises(DeployError, match=f"port {port} of environment 'staging' is used"):
            get_target(config).deploy("staging", build_candidate(model_artifact))


def test_an_artifact_changed_after_it_was_described_is_refused(
    config: HarnessConfig, tmp_path: Path, model_artifact: Path
) -> None:
    build = tmp_path / "build"
    shutil.copytree(model_artifact, build)
    candidate = build_candidate(build)
    (build / "model.joblib").write_bytes(b"retrained meanwhile")
    with pytest.raises(DeployError, match="changed since the candidate was described"):
        get_target(config).deploy("staging", candidate)
    assert get_target(config).status("staging") is None
    assert not list((env_dir(config.resolve(config.deploy.state_dir), "staging")).rglob("*.joblib"))


def test_candidates_are_digests_of_what_they_name(model_artifact: Path, tmp_path: Path) -> None:
    image = "registry.example.com/credit@sha256:" + "0" * 64
    candidate = build_candidate(model_artifact, image=image, code_revision="abc")
    assert candidate == build_candidate(model_artifact, image=image, code_revision="abc")
    assert candidate.id != build_candidate(model_artifact, image=image, code_revision="abd").id
    assert Candidate.from_dict(candidate.to_dict()) == candidate
    with pytest.raises(DeployError, match="not pinned by digest"):
        build_candidate(model_artifact, image="credit:latest")
    with pytest.raises(DeployError, match="does not exist"):
        build_candidate(tmp_path / "none")


def harness(config: HarnessConfig, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "--config", str(config.source), *args],
        cwd=config.root, capture_output=True, text=True, timeout=120, check=False,
    )


def test_cli_deploys_a_service_that_outlives_the_command(config: HarnessConfig) -> None:
    result = harness(config, "deploy", "--env", "staging")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("staging: healthy, candidate ")
    url = f"http://127.0.0.1:{config.environments['staging'].port}"
    assert httpx.get(f"{url}/ready", timeout=5).status_code == 200

    # The commands that follow read or change it through the CLI's main in this process.
    result = in_process(config.source, "status", cwd=config.root)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("staging: healthy") and url in lines[0]
    assert lines[1] == "production: nothing deployed"

    result = in_process(config.source, "rollback", "--env", "staging", cwd=config.root)
    assert result.returncode == 2
    assert result.stderr == (
        "harness: error: environment 'staging' has no revision before revision 1; "
        "nothing to roll back to\n"
    )
    assert in_process(config.source, "stop", "--env", "staging",
                      cwd=config.root).stdout == "staging: stopped\n"
    result = in_process(config.source, "status", "--env", "staging", cwd=config.root)
    assert result.returncode == 1 and "UNHEALTHY" in result.stdout


def test_cli_names_a_missing_artifact_and_an_unknown_environment(
    config: HarnessConfig, tmp_path: Path
) -> None:
    result = harness(config, "deploy", "--env", "staging", "--artifact", str(tmp_path / "none"))
    assert result.returncode == 2
    assert "does not exist; train or build the model first" in result.stderr
    result = harness(config, "deploy", "--env", "qa")
    assert result.returncode == 2
    assert "no environment 'qa' under 'environments' (known: production, staging)" in result.stderr
    assert not (config.root / "state").exists(), "a refused command leaves no state behind"


def test_one_command_at_a_time_changes_an_environment(
    config: HarnessConfig, model_artifact: Path
) -> None:
    from harness.deploy.state import locked

    folder = env_dir(config.resolve(config.deploy.state_dir), "staging")
    with locked(folder), pytest.raises(DeployError, match="another harness command is changing"):
        get_target(config).deploy("staging", build_candidate(model_artifact))
    assert get_target(config).status("staging") is None


def test_an_unreadable_state_file_is_named(config: HarnessConfig) -> None:
    folder = env_dir(config.resolve(config.deploy.state_dir), "staging")
    folder.mkdir(parents=True)
    (folder / "state.json").write_text("{half a reco")
    with pytest.raises(DeployError, match=r"state\.json: cannot read deploy state"):
        get_target(config).status("staging")
    (folder / "state.json").unlink()


def test_a_service_serving_another_artifact_is_refused_at_deploy(
        tmp_path: Path, model_artifact: Path, second_artifact: Path) -> None:
    """The service reports another artifact digest at /version than the candidate's: the
    deploy is refused, saying what was served and what was expected; nothing keeps running."""
    wrong = ["{python}", "-m", "harness", "--config", "{config}", "serve",
             "--artifact", str(second_artifact), "--host", "{host}", "--port", "{port}"]
    config = local_config(tmp_path, model_artifact, local={"command": wrong})
    candidate = build_candidate(model_artifact)
    with pytest.raises(DeployError) as excinfo:
        LocalTarget(config).deploy("staging", candidate)
    message = str(excinfo.value)
    assert "was refused" in message
    assert f"expected the candidate's {candidate.artifact_sha256}" in message
    assert build_candidate(second_artifact).artifact_sha256 in message
    assert "nothing is running now" in message
    assert port_is_free("127.0.0.1", config.environments["staging"].port or 0)
    assert LocalTarget(config).status("staging") is None


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _predict(url: str) -> int:
    """The status code of ``/predict`` for the first golden record."""
    import pandas as pd

    from harness.model.protocols import json_records

    frame = pd.read_csv(EXAMPLE / "golden/credit/v1/credit.csv", nrows=1).drop(columns="Status")
    return httpx.post(f"{url}/predict", json=json_records(frame)[0], timeout=10).status_code


def test_a_service_starts_from_a_clean_declared_environment(
    tmp_path: Path, model_artifact: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The caller's fault injection and HARNESS_* never reach the service; what the config
    declares (``env``) and lets through (``pass_env``) does."""
    monkeypatch.setenv("HARNESS_INJECT_ERROR_RATE", "1")
    monkeypatch.setenv("HARNESS_HISTORY_URL", "sqlite:///elsewhere.db")
    monkeypatch.setenv("TEAM_TOKEN", "from-the-agent")
    monkeypatch.setenv("UNRELATED", "x")
    config = local_config(tmp_path, model_artifact,
                          local={"env": {"MODEL_THREADS": "2"}, "pass_env": ["TEAM_TOKEN"]})
    target = get_target(config)
    try:
        deployed = target.deploy("staging", build_candidate(model_artifact))
        environ = _environ(int(deployed.detail.removeprefix("pid ")))
        assert _predict(deployed.url or "") == 200, "the caller's fault injection stayed out"
        assert not [name for name in environ if name.startswith("HARNESS_INJECT")]
        assert "HARNESS_HISTORY_URL" not in environ and "UNRELATED" not in environ
        assert environ["MODEL_THREADS"] == "2" and environ["TEAM_TOKEN"] == "from-the-agent"
        assert environ["PATH"] == os.environ["PATH"]
        assert environ["PYTHONPATH"].split(os.pathsep)[0] == str(config.root)

        # A rollback restarts a revision with what it was given, not the caller's now.
        monkeypatch.setenv("TEAM_TOKEN", "rotated")
        target.deploy("staging", build_candidate(model_artifact))
        rolled = target.rollback("staging")
        environ = _environ(int(rolled.detail.removeprefix("pid ")))
        assert environ["TEAM_TOKEN"] == "from-the-agent" and "HARNESS_INJECT_ERROR_RATE" \
            not in environ
    finally:
        target.stop("staging")
        _kill_recorded(config)


def test_a_service_whose_predictions_fail_is_neither_ready_nor_healthy(
    tmp_path: Path, model_artifact: Path
) -> None:
    """/ready answers 200 but /predict answers 500: the deploy is refused (nothing was
    running, nothing runs), and a service that starts failing later is reported unhealthy."""
    failing = local_config(tmp_path, model_artifact,
                           local={"env": {"HARNESS_INJECT_ERROR_RATE": "1"}})
    try:
        with pytest.raises(DeployError) as excinfo:
            get_target(failing).deploy("staging", build_candidate(model_artifact))
        message = str(excinfo.value)
        assert "could not score one record of golden set 'credit-v1'" in message
        assert "answered 500" in message and "nothing was running before" in message
        assert port_is_free("127.0.0.1", failing.environments["staging"].port or 0)

        # Faults drawn from the server's seeded generator at a rate of 0.8: its first
        # prediction (the deploy's readiness record) passes, the next ones (status's) fail.
        flaky = local_config(tmp_path, model_artifact,
                             local={"env": {"HARNESS_INJECT_ERROR_RATE": "0.8"}})
        deployed = get_target(flaky).deploy("staging", build_candidate(model_artifact))
        assert deployed.healthy
        status = get_target(flaky).status("staging")
        assert status is not None and not status.healthy
        assert "could not score one record" in status.detail and "500" in status.detail
        shown = in_process(flaky.source, "status", "--env", "staging", cwd=flaky.root)
        assert shown.returncode == 1, shown.stdout + shown.stderr
        assert shown.stdout.startswith("staging: UNHEALTHY") and "answered 500" in shown.stdout
    finally:
        get_target(failing).stop("staging")
        _kill_recorded(failing)


def test_a_deployed_artifact_is_readable_by_other_users(tmp_path: Path) -> None:
    """A Jenkins job of another uid on the agent reads the deployed model (0755, as golden
    data), not a private 0700 folder left by the staging copy."""
    from harness.candidate.identity import build_candidate
    from harness.deploy.local import LocalTarget

    source = tmp_path / "model.joblib"
    source.write_bytes(b"model bytes")
    destination = tmp_path / "deployed" / "rev1"
    LocalTarget._copy_artifact(build_candidate(source), destination)
    assert destination.stat().st_mode & 0o777 == 0o755
    assert (destination / "model.joblib").read_bytes() == b"model bytes"
