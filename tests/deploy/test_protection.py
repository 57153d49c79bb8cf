"""Protected environments: production changes only through `harness promote`, or a release
manager's audited break-glass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import HarnessConfig, load_config
from harness.deploy.registry import get_target
from harness.history import HistoryStore
from harness.history.release import audit_trail
from tests.support.cli import Result, in_process
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port


def _config(folder: Path, artifact: Path | str, **environments: dict[str, object]
            ) -> HarnessConfig:
    for name in ("golden", "fixtures", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    envs: dict[str, dict[str, object]] = {"staging": {"port": free_port()},
                                          "production": {"port": free_port()}}
    for env, extra in environments.items():
        envs[env] = {**envs.get(env, {"port": free_port()}), **extra}
    path = write_config(folder, model={"artifact": str(artifact)},
                        profiles={"pr": {"checks": ["schema"]}},
                        deploy={"state_dir": "state", "ready_timeout_s": 60},
                        environments=envs, release={"managers": ["ana", "ben"]})
    return load_config(path)


def _harness(config: HarnessConfig, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=config.root,
                          capture_output=True, text=True, timeout=120, check=False)


def _main(config: HarnessConfig, *args: str) -> Result:
    """A refused command, through the CLI's ``main`` in this process (as from the config's
    folder): nothing it refuses needs a process of its own."""
    return in_process(config.source, *args, cwd=config.root)


def _audit(config: HarnessConfig) -> list[tuple[str, str, str, str]]:
    store = HistoryStore(config.history_url())
    try:
        return [(e.actor, e.action, e.outcome, e.detail) for e in audit_trail(store)]
    finally:
        store.close()


def test_production_is_protected_by_default_and_any_environment_may_be(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "none", qa={"protected": True})
    assert config.protected("production") and config.protected("qa")
    assert not config.protected("staging")
    opened = _config(tmp_path, tmp_path / "none", production={"protected": False})
    assert not opened.protected("production")


@pytest.mark.parametrize("command", ["deploy", "rollback", "stop"])
def test_changing_production_outside_a_promotion_is_refused_before_anything_happens(
        tmp_path: Path, command: str) -> None:
    # The artifact does not even exist: the refusal comes before the candidate is read.
    config = _config(tmp_path, tmp_path / "none")
    result = _main(config, command, "--env", "production")
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert (f"environment production is protected: `harness {command} --env production` "
            "is refused") in result.stderr
    assert "harness promote" in result.stderr and "--break-glass" in result.stderr
    assert not (tmp_path / "state").exists(), "nothing was deployed, stopped or recorded"
    assert not (tmp_path / ".harness").exists(), "no history store was even created"


@pytest.mark.parametrize(("extra", "message"), [
    (["--break-glass", "--reason", "hotfix", "--by", "mallory"],
     "mallory may not break the glass on production: not among release.managers"),
    (["--break-glass", "--by", "ana"], "--break-glass needs --reason TEXT"),
    (["--break-glass", "--reason", "  ", "--by", "ana"], "needs a --reason saying why"),
    (["--reason", "hotfix", "--by", "ana"], "--reason and --by go with --break-glass"),
])
def test_a_break_glass_is_for_a_release_manager_with_a_reason(
        tmp_path: Path, extra: list[str], message: str) -> None:
    config = _config(tmp_path, tmp_path / "none")
    result = _main(config, "deploy", "--env", "production", *extra)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "state").exists() and not (tmp_path / ".harness").exists()


def test_staging_needs_no_glass_and_refuses_one(tmp_path: Path) -> None:
    config = _config(tmp_path, tmp_path / "none")
    result = _main(config, "stop", "--env", "staging", "--break-glass", "--reason", "x",
                      "--by", "ana")
    assert result.returncode == 2
    assert "environment staging is not protected" in result.stderr


def test_a_break_glass_runs_and_leaves_who_why_before_and_after_in_audit_and_status(
        tmp_path: Path, model_artifact: Path) -> None:
    config = _config(tmp_path, model_artifact)
    glass = ("--break-glass", "--reason", "INC-42 hotfix", "--by", "ana")
    try:
        deployed = _harness(config, "deploy", "--env", "production", *glass)
        assert deployed.returncode == 0, deployed.stderr
        assert deployed.stdout.startswith("production: healthy, candidate ")
        candidate = deployed.stdout.split("candidate ")[1].split(",")[0]

        status = _harness(config, "status", "--env", "production")
        assert status.returncode == 0, status.stderr
        line = status.stdout.splitlines()[1]
        assert line.startswith("  production: BREAK-GLASS by ana at ")
        assert "(done): deploy; reason: INC-42 hotfix; before: nothing; now: candidate " \
            f"{candidate} (revision 1" in line

        stopped = _harness(config, "stop", "--env", "production", *glass)
        assert stopped.returncode == 0, stopped.stderr
    finally:
        get_target(config).stop("production")
    trail = _audit(config)
    assert [(actor, action, outcome) for actor, action, outcome, _ in trail] == [
        ("ana", "break-glass", "started"), ("ana", "break-glass", "done"),
        ("ana", "break-glass", "started"), ("ana", "break-glass", "done")]
    assert trail[-1][3].startswith(f"production: stop; reason: INC-42 hotfix; before: "
                                   f"candidate {candidate} (revision 1")
    assert trail[-1][3].endswith("not serving)")
    assert "BREAK-GLASS by ana" in _harness(config, "status").stdout


@pytest.mark.parametrize(("attestations", "message"), [
    ({"keys": {"ci": "ci.pub"}, "signing_key_env": "K", "signing_key_file": "k.pem"},
     "give 'signing_key_env' or 'signing_key_file', not both"),
    ({"signing_key_file": "k.pem"}, "a signing key needs the public 'keys'"),
])
def test_an_attestation_section_that_cannot_work_is_refused(
        tmp_path: Path, attestations: dict[str, object], message: str) -> None:
    from harness.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        for name in ("golden", "fixtures", "credit_model"):
            (tmp_path / name).symlink_to(EXAMPLE / name)
        load_config(write_config(tmp_path, release={"managers": ["ana"],
                                                    "attestations": attestations}))
