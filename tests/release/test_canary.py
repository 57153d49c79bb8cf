"""``harness canary`` on the local target, for real: nginx splitting production's requests,
Locust replaying golden rows, both revisions' prediction logs judged step by step; an equal
canary promoted, a degraded and a slow one aborted with all traffic back on stable, a
canary killed midway found by ``harness status`` and ended by ``harness recover``, and one
held before its last step (outliving its command), resumed on approval or given up."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness.candidate.identity import build_candidate
from harness.cli import main
from harness.config import HarnessConfig, load_config
from harness.deploy.canary import canary_pid
from harness.deploy.local import LocalTarget
from harness.deploy.router import NginxRouter
from harness.deploy.state import env_dir, load_state
from harness.gates.properties import GateProperties
from harness.history import HistoryStore
from harness.history.release import Lock, audit_trail
from harness.release.recovery import LOCK
from harness.run.verdict import read_junit
from tests.support.local_target import stop_routed
from tests.support.service_process import free_port
from tests.support.staged import release_project, stage

pytestmark = [pytest.mark.end_to_end,
              pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")]

# Steps small enough for a test: pass margins wide enough that a few thousand replayed
# requests decide an equal canary (the defaults ask for the traffic of a real service),
# and narrower on the score than the flipped model's shift (about 0.16) so that it fails.
CANARY = {"steps": [{"percent": 10, "min_requests": 20, "max_duration_s": 180},
                    {"percent": 50, "min_requests": 20, "max_duration_s": 180},
                    {"percent": 100, "min_requests": 30, "max_duration_s": 180}],
          "decision_pass_margin": 0.3, "score_pass_margin": 0.1, "slow_ms": 100,
          "latency_margin": 0.1, "latency_pass_margin": 0.3, "error_pass_margin": 0.2,
          "max_error_rate": 0.2, "max_slow_share": 0.3, "hold_s": 0}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory,
             model_artifact: Path) -> Iterator[HarnessConfig]:
    """Production behind nginx serving the session's model, with a canary section, deployed
    once for the module: every test leaves it as it found it (no split, no canary, the same
    model serving; a promoted canary of that model is a new revision of it)."""
    config = release_project(
        tmp_path_factory.mktemp("production"), model_artifact,
        environments={"staging": {"port": free_port()},
                      "production": {"port": free_port(), "router": "nginx"}},
        deploy={"target": "local", "state_dir": "state", "ready_timeout_s": 60,
                "local": {"pass_env": ["HARNESS_INJECT_LATENCY_MS"]}},
        release={"managers": ["ana"], "evidence_max_age_hours": 24, "canary": CANARY},
        load={"users": 4, "spawn_rate": 4, "run_time_s": 30, "max_requests": 1000,
              "workers": 1})
    try:
        LocalTarget(config).deploy("production", build_candidate(model_artifact))
        yield config
    finally:
        pid = canary_pid(config, "production")
        if pid:
            os.killpg(pid, signal.SIGKILL)
        stop_routed(config)


@pytest.fixture
def production(deployed: HarnessConfig, model_artifact: Path, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> HarnessConfig:
    """The module's production, with a history store of this test's own (the candidate's
    evidence, the promotion lock, the audit trail): each test's trail starts empty."""
    assert _router(deployed).splits_to() is None and canary_pid(deployed, "production") is None
    assert _serves(deployed, model_artifact), "an earlier test left production changed"
    monkeypatch.setenv("HARNESS_HISTORY_URL", f"sqlite:///{tmp_path / 'history.db'}")
    return deployed


@pytest.fixture
def reports(tmp_path: Path) -> Path:
    """This test's reports folder."""
    return tmp_path / "reports"


def _canary(config: HarnessConfig, candidate: Path, reports: Path, *extra: str) -> int:
    return main(["--config", str(config.source), "canary", "--env", "production",
                 "--candidate", str(candidate), "--approver", "ana", "--replay-golden",
                 "--max-requests", "20000", "--reports", str(reports), *extra])


def _steps(reports: Path) -> dict[str, tuple[str, str, GateProperties]]:
    cases, problems = read_junit([reports / "canary/junit/canary.xml"])
    assert not problems
    return {c.name: (c.status.value, c.message, c.properties) for c in cases}


def _router(config: HarnessConfig) -> NginxRouter:
    folder = env_dir(config.resolve(config.deploy.state_dir), "production")
    return NginxRouter("production", folder / "router", "127.0.0.1", 1)


def _serves(config: HarnessConfig, artifact: Path) -> bool:
    url = config.environments["production"].address()
    answer = httpx.get(f"{url}/version", timeout=5)
    return answer.json()["artifact_sha256"] == build_candidate(artifact).artifact_sha256


def _beside(config: HarnessConfig, name: str, canary: dict[str, object]) -> HarnessConfig:
    """A config of its own beside ``config`` (the same production, state and history), with
    another canary section."""
    data = yaml.safe_load(config.source.read_text())
    data["release"]["canary"] = canary
    source = config.root / f"harness-{name}.yaml"
    source.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_config(source)


def _trail(config: HarnessConfig) -> list[tuple[str, str, str]]:
    store = HistoryStore(config.history_url())
    try:
        return [(e.action, e.outcome, e.detail) for e in audit_trail(store)]
    finally:
        store.close()


def test_an_equal_canary_walks_10_50_100_and_becomes_production(
        production: HarnessConfig, model_artifact: Path, reports: Path,
        capsys: pytest.CaptureFixture) -> None:
    stage(production, model_artifact)
    before = load_state(env_dir(production.resolve(production.deploy.state_dir), "production"))
    assert _canary(production, model_artifact, reports) == 0, capsys.readouterr()
    steps = _steps(reports)
    assert list(steps) == ["step_1_10_percent", "step_2_50_percent", "step_3_100_percent"]
    for outcome, _, properties in steps.values():
        assert outcome == "passed" and properties.decision == "pass"
        assert int(properties.extra["canary_answers"]) >= 20
    tenth = steps["step_1_10_percent"][2]
    assert {"decision_rate_decision", "score_decision", "latency_decision",
            "errors_decision"} <= set(tenth.extra)
    assert int(tenth.extra["stable_answers"]) > int(tenth.extra["canary_answers"])
    assert set(steps["step_3_100_percent"][2].extra) >= {"errors_decision", "latency_decision"}
    # Production's active revision is the candidate's, deployed as promote deploys.
    after = load_state(env_dir(production.resolve(production.deploy.state_dir), "production"))
    assert before and after and after.current == (before.current or 0) + 1
    assert _router(production).splits_to() is None and _serves(production, model_artifact)
    assert canary_pid(production, "production") is None
    trail = [(action, outcome) for action, outcome, _ in _trail(production)]
    assert trail == [("promote", "started"), ("canary", "step passed"),
                     ("canary", "step passed"), ("canary", "step passed"),
                     ("promote", "promoted")]
    out = capsys.readouterr().out
    assert "runs in production (revision" in out
    assert (reports / "canary/html/index.html").is_file()
    assert (reports / "canary/evidence.json").is_file() or any(
        (reports / "canary").glob("*evidence*"))


def test_a_degraded_canary_is_aborted_at_its_first_step_with_traffic_back_on_stable(
        production: HarnessConfig, model_artifact: Path, flipped_artifact: Path, reports: Path,
        capsys: pytest.CaptureFixture) -> None:
    stage(production, flipped_artifact)
    assert _canary(production, flipped_artifact, reports) == 1
    steps = _steps(reports)
    assert list(steps) == ["step_1_10_percent"]
    outcome, message, properties = steps["step_1_10_percent"]
    assert outcome == "failed" and properties.decision == "fail"
    failed = [name for name in ("decision_rate", "score", "latency", "errors")
              if properties.extra.get(f"{name}_decision") == "fail"]
    assert set(failed) & {"decision_rate", "score"}, message
    assert _router(production).splits_to() is None and _serves(production, model_artifact)
    assert canary_pid(production, "production") is None
    action, result, detail = _trail(production)[-1]
    assert (action, result) == ("canary", "aborted")
    assert "aborted at step 1 (10 %)" in detail and "failed:" in detail
    assert any(f"{name}:" in detail for name in failed)
    out = capsys.readouterr().out
    print(out)
    assert "all traffic back on the stable revision in" in out


def test_a_slow_canary_fails_on_latency(production: HarnessConfig, model_artifact: Path,
                                        reports: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    stage(production, model_artifact)
    # Production was deployed without it; the canary gets it through deploy.local.pass_env.
    monkeypatch.setenv("HARNESS_INJECT_LATENCY_MS", "150")
    assert _canary(production, model_artifact, reports, "--steps", "10,100") == 1
    outcome, message, properties = _steps(reports)["step_1_10_percent"]
    assert outcome == "failed" and properties.extra["latency_decision"] == "fail", message
    assert "latency: canary - stable share slower than 100 ms" in message
    assert _router(production).splits_to() is None
    assert "latency:" in _trail(production)[-1][2]


def test_an_approver_who_is_no_release_manager_is_refused_before_the_first_step(
        production: HarnessConfig, model_artifact: Path, reports: Path,
        capsys: pytest.CaptureFixture) -> None:
    stage(production, model_artifact)
    assert main(["--config", str(production.source), "canary", "--env", "production",
                 "--candidate", str(model_artifact), "--approver", "bob",
                 "--replay-golden", "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert err.count("harness: error:") == 1 and "bob may not approve promotions" in err
    assert _router(production).splits_to() is None and canary_pid(production, "production") is None
    assert not (reports / "canary").exists()
    assert [(a, o) for a, o, _ in _trail(production)] == [("promote", "refused")]


def test_a_canary_killed_midway_is_reported_and_recovered(
        production: HarnessConfig, model_artifact: Path, reports: Path) -> None:
    # A step that cannot pass in the test's time (a pass margin no sample here reaches),
    # so it is midway for as long as the test needs (a config of its own beside the
    # module's); then the candidate's evidence.
    undecided = _beside(production, "undecided", CANARY | {
        "decision_pass_margin": 0.0001, "score_pass_margin": 0.0001})
    stage(undecided, model_artifact)
    command = [sys.executable, "-m", "harness", "--config", str(undecided.source), "canary",
               "--env", "production", "--candidate", str(model_artifact), "--approver", "ana",
               "--steps", "50", "--replay-golden", "--max-requests", "100000",
               "--reports", str(reports)]
    process = subprocess.Popen(command, cwd=production.root, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    store = HistoryStore(production.history_url())
    lock = Lock(store, LOCK, "test")
    try:
        deadline = time.monotonic() + 90
        while _router(production).splits_to() is None:
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.05)
        holder = lock.read()
        assert holder is not None and holder.journal["phase"] == "step 1 of 1 (50 %)"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        # What the killed command started in its process group (its Locust run) ends too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    assert canary_pid(production, "production") is not None  # the canary still answers

    status = subprocess.run([sys.executable, "-m", "harness", "status"], cwd=production.root,
                            capture_output=True, text=True, timeout=120, check=False)
    assert status.returncode == 1, status.stdout + status.stderr
    assert "an interrupted canary was found: a canary of candidate" in status.stdout
    assert "stopped during 'step 1 of 1 (50 %)'" in status.stdout
    assert "would route all of production's traffic to its current revision" in status.stdout

    recovery = subprocess.run([sys.executable, "-m", "harness", "recover", "--by", "ben"],
                              cwd=production.root, capture_output=True, text=True,
                              timeout=120, check=False)
    assert recovery.returncode == 0, recovery.stdout + recovery.stderr
    assert "routed all of production's traffic to revision" in recovery.stdout
    assert "stopped the canary" in recovery.stdout
    assert _router(production).splits_to() is None and _serves(production, model_artifact)
    assert canary_pid(production, "production") is None and lock.read() is None
    store.close()


def _held_share(config: HarnessConfig) -> tuple[int, float] | None:
    return _router(config).splits_to()


def test_a_canary_held_before_its_last_step_resumes_on_approval_and_becomes_production(
        production: HarnessConfig, model_artifact: Path, reports: Path,
        capsys: pytest.CaptureFixture) -> None:
    stage(production, model_artifact)
    # In a process of its own, so that the hold is seen to outlive the command's exit.
    held = subprocess.run(
        [sys.executable, "-m", "harness", "canary", "--env", "production", "--candidate",
         str(model_artifact), "--hold-before-last", "--by", "jenkins", "--replay-golden",
         "--max-requests", "20000", "--reports", str(reports)],
        cwd=production.root, capture_output=True, text=True, timeout=900, check=False)
    assert held.returncode == 0, held.stdout + held.stderr
    assert "held at 50 % (step 2 of 3)" in held.stdout and "awaiting approval" in held.stdout
    assert list(_steps(reports)) == ["step_1_10_percent", "step_2_50_percent"]
    # No harness process runs now: the canary and nginx's split outlived the command.
    pid = canary_pid(production, "production")
    assert pid is not None and _held_share(production) is not None
    assert _held_share(production)[1] == 50.0  # type: ignore[index]

    assert main(["--config", str(production.source), "status", "--env", "production"]) == 0
    status = capsys.readouterr().out
    assert "is held at 50 % (step 2 of 3) since" in status and "by jenkins" in status
    assert f"the canary (pid {pid}) answers its share" in status

    # An approver who is no release manager is refused as promote refuses; the hold stays.
    assert main(["--config", str(production.source), "canary", "--env", "production",
                 "--resume", "--approver", "bob"]) == 2
    assert "bob may not approve promotions" in capsys.readouterr().err
    assert _held_share(production) is not None and canary_pid(production, "production") == pid

    resumed = main(["--config", str(production.source), "canary", "--env", "production",
                    "--resume", "--approver", "ana", "--replay-golden", "--max-requests",
                    "20000", "--reports", str(reports)])
    out = capsys.readouterr().out
    assert resumed == 0, out
    steps = _steps(reports)
    assert list(steps) == ["step_1_10_percent", "step_2_50_percent", "step_3_100_percent"]
    assert all(outcome == "passed" for outcome, _, _ in steps.values())
    figures = json.loads((reports / "canary/canary.json").read_text())
    assert [step["step"] for step in figures["steps"]] == [1, 2, 3]
    assert _router(production).splits_to() is None and _serves(production, model_artifact)
    assert canary_pid(production, "production") is None
    trail = [(action, outcome) for action, outcome, _ in _trail(production)]
    assert trail == [("promote", "started"), ("canary", "step passed"),
                     ("canary", "step passed"), ("promote", "held"), ("promote", "refused"),
                     ("promote", "resumed"),
                     ("canary", "step passed"), ("promote", "promoted")]
    assert "runs in production (revision" in out
    assert (reports / "canary/html/index.html").is_file()


def test_a_held_canary_refuses_another_candidate_and_abort_restores_stable(
        production: HarnessConfig, model_artifact: Path, second_artifact: Path, reports: Path,
        capsys: pytest.CaptureFixture) -> None:
    stage(production, second_artifact)
    config = str(production.source)
    assert main(["--config", config, "canary", "--env", "production", "--candidate",
                 str(second_artifact), "--hold-before-last", "--steps", "10,100",
                 "--replay-golden", "--max-requests", "20000",
                 "--reports", str(reports)]) == 0, capsys.readouterr()
    split = _held_share(production)
    assert split is not None and split[1] == 10.0
    capsys.readouterr()

    # Another canary is refused while one is held, and does not end the held one.
    assert main(["--config", config, "canary", "--env", "production", "--candidate",
                 str(second_artifact), "--approver", "ana"]) == 2
    assert "is held at 10 % (step 1 of 2)" in capsys.readouterr().err
    assert _held_share(production) == split and canary_pid(production, "production")

    other = build_candidate(model_artifact).artifact_sha256[:16]
    assert main(["--config", config, "canary", "--env", "production", "--resume",
                 "--approver", "ana", "--candidate", other]) == 2
    err = capsys.readouterr().err
    assert err.count("harness: error:") == 1 and f"not {other}" in err
    assert _held_share(production) == split, "a refused resume keeps the hold"

    # The canary answering as another artifact than the one held (here the journal names
    # another digest) is refused too, the hold kept.
    store = HistoryStore(production.history_url())
    lock = Lock(store, LOCK, "test")
    held = lock.read()
    assert held is not None
    lock.write_journal(held.journal | {"hold": held.journal["hold"] | {
        "artifact_sha256": build_candidate(model_artifact).artifact_sha256}})
    assert main(["--config", config, "canary", "--env", "production", "--resume",
                 "--approver", "ana"]) == 2
    err = capsys.readouterr().err
    assert "the held canary is not the candidate it was:" in err and "/version reports" in err
    lock.write_journal(held.journal)
    store.close()

    assert main(["--config", config, "canary", "--env", "production", "--abort",
                 "--by", "ben"]) == 0
    out = capsys.readouterr().out
    assert "was given up by ben: routed all of production's traffic to revision" in out
    assert "stopped the canary" in out
    assert _router(production).splits_to() is None and _serves(production, model_artifact)
    assert canary_pid(production, "production") is None
    assert main(["--config", config, "status", "--env", "production"]) == 0
    assert "held" not in capsys.readouterr().out
    assert [(a, o) for a, o, _ in _trail(production)][-5:] == [
        ("promote", "held"), ("promote", "refused"), ("canary", "refused"),
        ("canary", "refused"), ("canary", "aborted")]
