"""``harness shadow``: a candidate mirrored beside production on the local target, with
real nginx and real Locust traffic, judged request by request; and its refusals."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness.candidate.identity import build_candidate
from harness.cli import main
from harness.config import HarnessConfig, load_config
from harness.deploy.local import LocalTarget
from harness.deploy.router import NginxRouter
from harness.deploy.state import env_dir, load_state
from harness.gates.properties import GateProperties
from harness.run.verdict import read_junit
from tests.support.local_target import stop_routed
from tests.support.project import EXAMPLE, edit_config, write_config
from tests.support.service_process import free_port

nginx = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")


def shadow_config(folder: Path, artifact: Path, router: bool = True,
                  **shadow: object) -> HarnessConfig:
    for name in ("golden", "fixtures", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    path = write_config(
        folder, model={"artifact": str(artifact)}, profiles={"pr": {"checks": ["schema"]}},
        deploy={"state_dir": "state", "ready_timeout_s": 60,
                "local": {"pass_env": ["HARNESS_INJECT_LATENCY_MS"]}},
        environments={"staging": {"port": free_port()},
                      "production": {"port": free_port(), **({"router": "nginx"} if router
                                                             else {})}},
        # A 3 % tolerance: an identical candidate passes in a few hundred requests (at the
        # default 1 %, about 600), so the test stays short.
        release={"managers": ["rm"], "shadow": {"min_requests": 30, "tolerance": 0.03,
                                                **shadow}},
        load={"users": 4, "spawn_rate": 4, "run_time_s": 30, "max_requests": 1000,
              "workers": 1})
    return load_config(path)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory,
             model_artifact: Path) -> Iterator[HarnessConfig]:
    """Production deployed behind nginx, serving the session's model, once for the tests
    that only shadow it: each leaves it as it found it (the mirror off, the same model
    serving, which each asserts) and writes its reports in a folder of its own."""
    config = shadow_config(tmp_path_factory.mktemp("production"), model_artifact)
    try:
        LocalTarget(config).deploy("production", build_candidate(model_artifact))
        yield config
    finally:
        stop_routed(config)


@pytest.fixture
def production(tmp_path: Path, model_artifact: Path) -> Iterator[HarnessConfig]:
    """Production of this test's own, behind nginx (for a test that stops its router)."""
    config = shadow_config(tmp_path, model_artifact)
    try:
        LocalTarget(config).deploy("production", build_candidate(model_artifact))
        yield config
    finally:
        stop_routed(config)


def _shadow(config: HarnessConfig, reports: Path, candidate: Path, *extra: str,
            requests: int = 400) -> int:
    return main(["--config", str(config.source), "shadow", "--env", "production",
                 "--candidate", str(candidate), "--max-requests", str(requests),
                 "--max-duration", "60", "--replay-golden", "--reports", str(reports), *extra])


def _beside(config: HarnessConfig, name: str, **sections: dict[str, object]) -> HarnessConfig:
    """A config of its own beside ``config`` (the same production, state and history), with
    ``sections`` merged into its own."""
    data = yaml.safe_load(config.source.read_text())
    for key, value in sections.items():
        data[key] = {**data[key], **value}
    source = config.root / f"harness-{name}.yaml"
    source.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_config(source)


def _cases(reports: Path) -> dict[str, tuple[str, str, GateProperties]]:
    """name -> (outcome, message, properties) of the shadow's JUnit, read as Jenkins would."""
    cases, problems = read_junit([reports / "shadow/junit/shadow.xml"])
    assert not problems
    return {c.name: (c.status.value, c.message, c.properties) for c in cases}


def _production_serves(config: HarnessConfig, artifact: Path) -> bool:
    url = config.environments["production"].address()
    answer = httpx.get(f"{url}/version", timeout=5)
    return answer.json()["artifact_sha256"] == build_candidate(artifact).artifact_sha256


def _mirror_is_off(config: HarnessConfig) -> bool:
    folder = env_dir(config.resolve(config.deploy.state_dir), "production")
    return NginxRouter("production", folder / "router", "127.0.0.1", 1).mirrors_to() is None


# -- end to end: real nginx, real Locust ----------------------------------------------------

@nginx
@pytest.mark.end_to_end
def test_a_candidate_identical_to_production_passes(
        deployed: HarnessConfig, model_artifact: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    production, reports = deployed, tmp_path / "reports"
    assert _shadow(production, reports, model_artifact) == 0, capsys.readouterr()
    cases = _cases(reports)
    assert {name: outcome for name, (outcome, _, _) in cases.items()} == {
        "agreement": "passed", "score_difference": "passed", "score_distribution": "passed",
        "latency": "passed", "errors": "passed"}
    agreement = cases["agreement"][2]
    assert agreement.decision == "pass" and agreement.flips == "none"
    assert _mirror_is_off(production) and _production_serves(production, model_artifact)
    assert (reports / "shadow/html/index.html").is_file()
    summary = (reports / "shadow/summary.md").read_text()
    assert summary.startswith("### credit-scoring: harness shadow --env production")
    out = capsys.readouterr().out
    assert "agreement: the candidate decided otherwise on 0 of" in out
    assert "latency: candidate - production latency net of waits for a CPU" in out
    assert "pass, decided after" in out
    # No release checks passed before: the shadow's pass is not evidence on its own.
    assert "not recorded as release evidence" in out


@nginx
@pytest.mark.end_to_end
def test_a_candidate_trained_on_flipped_labels_fails_on_agreement_and_score(
        deployed: HarnessConfig, model_artifact: Path, flipped_artifact: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    production, reports = deployed, tmp_path / "reports"
    assert _shadow(production, reports, flipped_artifact) == 1
    cases = _cases(reports)
    outcome, message, properties = cases["agreement"]
    # The window stops at the first sequential test that fails: when the score difference
    # decides first, agreement fails undecided, still naming its figures.
    assert outcome == "failed" and (properties.decision == "fail"
                                    or "undecided after" in message), message
    assert "decided otherwise on" in message and "flips:" in message
    assert "→" in (properties.flips or "")
    outcome, message, properties = cases["score_difference"]
    assert outcome == "failed" and "mean score difference" in message
    assert properties.difference is not None
    # Stopped early: far fewer joined requests than the window allowed.
    assert (properties.rows or 0) < 400
    assert "recorded as the candidate's newest evidence (failed" in capsys.readouterr().out
    assert _mirror_is_off(production) and _production_serves(production, model_artifact)


@nginx
@pytest.mark.end_to_end
def test_a_slow_candidate_fails_on_latency(
        deployed: HarnessConfig, model_artifact: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Production was deployed without it; the shadow gets it through deploy.local.pass_env.
    monkeypatch.setenv("HARNESS_INJECT_LATENCY_MS", "40")
    reports = tmp_path / "reports"
    assert _shadow(deployed, reports, model_artifact, requests=200) == 1
    cases = _cases(reports)
    outcome, message, properties = cases["latency"]
    assert outcome == "failed" and "Hodges-Lehmann" in message
    assert float(properties.difference) > 30  # type: ignore[arg-type]
    assert cases["agreement"][0] in ("passed", "failure")  # decided or not, not the point


@nginx
@pytest.mark.end_to_end
def test_a_nondeterministic_production_is_judged_on_its_excess_over_a_copy(
        tmp_path: Path, model_artifact: Path, capsys: pytest.CaptureFixture) -> None:
    # Every service of this config jitters its scores (the server's test hook), so
    # production disagrees with itself: the candidate, production's own artifact, is judged
    # on what it adds to that floor, and the floor is reported. Three servers, Locust and
    # nginx share the cores: on a loaded CI machine the candidate once answered 10 ms slower
    # than the copy, waiting for a CPU, until latency was judged net of those waits.
    config = shadow_config(tmp_path, model_artifact)
    edit_config(config.root, deploy={"state_dir": "state", "ready_timeout_s": 60, "local": {
        "env": {"HARNESS_INJECT_SCORE_JITTER": "0.03"}}})
    config = load_config(config.source)
    try:
        LocalTarget(config).deploy("production", build_candidate(model_artifact))
        code = _shadow(config, config.root / "reports", model_artifact, "--noise-floor",
                       requests=1500)
        cases = _cases(config.root / "reports")
        out = capsys.readouterr().out
        # Production's own artifact, as noisy as production: it passes on its excess.
        assert code == 0, out
        assert list(cases) == ["agreement", "score_difference", "noise_floor",
                               "score_distribution", "latency", "errors"]
        outcome, _, properties = cases["noise_floor"]
        floor = next(line for line in out.splitlines() if "noise_floor:" in line)
        assert outcome == "passed" and "production's copy" in floor
        # The floor is not 0: production and its copy differ by the injected jitter.
        assert "its scores differed by 0.0000" not in floor and (properties.rows or 0) > 0
        assert cases["agreement"][2].metric == "excess_disagreement"
        assert cases["score_difference"][2].metric == "excess_score_distance"
        assert "candidate - production's copy latency net of waits for a CPU" in out
        assert _mirror_is_off(config) and _production_serves(config, model_artifact)
        folder = env_dir(config.resolve(config.deploy.state_dir), "production")
        assert NginxRouter("production", folder / "router", "127.0.0.1", 1) \
            .second_mirror_to() is None
        assert not (folder / "shadow/copy/revisions/1/artifact").exists()
    finally:
        stop_routed(config)


# -- refusals: one message, exit 2, production still serving -------------------------------

@nginx
@pytest.mark.end_to_end
def test_too_few_requests_is_inconclusive_never_a_pass(
        deployed: HarnessConfig, model_artifact: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    # Only the sequential tests may decide here, and ten requests are too few for them: the
    # end-of-window latency and error judgments, which a loaded machine can tip with ten
    # answers, are given room so that they cannot.
    config = _beside(deployed, "too-few", release={"shadow": {
        "min_requests": 30, "tolerance": 0.03, "latency_margin_ms": 1000,
        "max_error_rate": 0.5}})
    reports = tmp_path / "reports"
    assert _shadow(config, reports, model_artifact, requests=10) == 1
    cases = _cases(reports)
    outcome, message, properties = cases["agreement"]
    assert outcome == "failed" and properties.decision == "inconclusive"
    assert "release.shadow.min_requests" in message and "more joined requests" in message
    assert "inconclusive" in capsys.readouterr().out


@nginx
@pytest.mark.end_to_end
def test_a_candidate_that_never_becomes_ready_is_refused(
        deployed: HarnessConfig, model_artifact: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture) -> None:
    # It never becomes ready, in 5 s as in 60: the shorter wait is the test's only change.
    production = _beside(deployed, "never-ready", deploy={"ready_timeout_s": 5})
    reports = tmp_path / "reports"
    broken = tmp_path / "broken"
    shutil.copytree(model_artifact, broken)
    (broken / "model.joblib").write_bytes(b"not a model")
    assert _shadow(production, reports, broken) == 2
    err = capsys.readouterr().err
    assert err.count("harness: error:") == 1 and "did not become ready" in err
    assert "Traceback" not in err
    assert _mirror_is_off(production) and _production_serves(production, model_artifact)
    assert not (reports / "shadow").exists()
    # No shadow revision's artifact is left (other tests' shadows ran on this production).
    assert not list(env_dir(production.resolve(production.deploy.state_dir), "production")
                    .glob("shadow/revisions/*/artifact"))


@nginx
@pytest.mark.end_to_end
def test_a_router_that_cannot_take_its_port_is_refused(
        production: HarnessConfig, model_artifact: Path,
        capsys: pytest.CaptureFixture) -> None:
    folder = env_dir(production.resolve(production.deploy.state_dir), "production")
    port = production.environments["production"].port
    NginxRouter("production", folder / "router", "127.0.0.1", port or 0).stop()
    state = load_state(folder)
    assert state is not None and state.router is not None
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port or 0))
        squatter.listen()
        assert _shadow(production, production.root / "reports", model_artifact) == 2
    err = capsys.readouterr().err
    assert err.count("harness: error:") == 1 and f"port {port}" in err
    # Production's revision still answers on its own loopback port.
    direct = f"http://127.0.0.1:{state.router.port}/ready"
    assert httpx.get(direct, timeout=5).status_code == 200


@pytest.mark.end_to_end
def test_nginx_missing_or_production_serving_directly_is_refused(
        tmp_path: Path, model_artifact: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture) -> None:
    direct = shadow_config(tmp_path, model_artifact, router=False)
    try:
        LocalTarget(direct).deploy("production", build_candidate(model_artifact))
        routed = shadow_config(tmp_path, model_artifact)
        # The same ports as the deployed config, now asking for a router.
        data = routed.source.read_text().replace(
            str(routed.environments["production"].port),
            str(direct.environments["production"].port))
        routed.source.write_text(data)
        assert _shadow(load_config(routed.source), tmp_path / "reports", model_artifact) == 2
        err = capsys.readouterr().err
        assert err.count("harness: error:") == 1 and "serves directly on port" in err
        assert _production_serves(direct, model_artifact)

        monkeypatch.setenv("PATH", str(Path(sys.executable).parent))
        assert _shadow(load_config(routed.source), tmp_path / "reports", model_artifact) == 2
        err = capsys.readouterr().err
        assert err.count("harness: error:") == 1 and "nginx is not on PATH" in err
        assert _production_serves(direct, model_artifact)
    finally:
        stop_routed(direct)


def test_the_kubernetes_target_is_refused_as_local_only(
        tmp_path: Path, model_artifact: Path, capsys: pytest.CaptureFixture) -> None:
    from tests.support.kubernetes import gateway_config

    config = gateway_config(tmp_path)
    assert _shadow(config, config.root / "reports", model_artifact) == 2
    err = capsys.readouterr().err
    assert err.count("harness: error:") == 1 and "Traceback" not in err
    assert "on the local target only" in err and "harness route --shadow" in err
    assert not (config.root / "reports" / "shadow").exists()


@pytest.mark.end_to_end
def test_the_shadow_starts_beside_at_the_configured_niceness(
        tmp_path: Path, model_artifact: Path) -> None:
    config = shadow_config(tmp_path, model_artifact)
    folder = tmp_path / "beside"
    pid, port = LocalTarget(config).start_beside("production", build_candidate(model_artifact),
                                                 folder, nice=7)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
        # /proc/<pid>/stat: the niceness is the 19th field (after the command's name).
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        assert int(fields[16]) == 7
        assert str(folder) in Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    finally:
        os.killpg(pid, signal.SIGKILL)
