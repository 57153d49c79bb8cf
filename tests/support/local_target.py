"""A project on the ``local`` target: its config, with loopback ports of its own."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

from harness.config import HarnessConfig, load_config
from harness.deploy.local import LocalTarget
from harness.deploy.router import NginxRouter
from harness.deploy.state import env_dir, load_state
from harness.processes import pid_alive
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port

READY_TIMEOUT_S = 60


def local_config(folder: Path, model_artifact: Path,
                 environments: dict[str, object] | None = None,
                 **deploy: object) -> HarnessConfig:
    for name in ("golden", "fixtures", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    path = write_config(
        folder,
        model={"artifact": str(model_artifact)},
        profiles={"pr": {"checks": ["schema"]}},
        deploy={"state_dir": "state", "ready_timeout_s": READY_TIMEOUT_S, **deploy},
        environments=environments or {"staging": {"port": free_port()},
                                      "production": {"port": free_port()}},
    )
    return load_config(path)


def stop_routed(config: HarnessConfig, env: str = "production") -> None:
    """A test's teardown of an environment behind nginx: stopped through the target, then
    whatever a failed test left of it (a revision starting, the router) killed."""
    LocalTarget(config).stop(env)
    folder = env_dir(config.resolve(config.deploy.state_dir), env)
    state = load_state(folder)
    for pid in (state.pid, state.starting_pid) if state else ():
        if pid and pid_alive(pid):
            os.killpg(pid, signal.SIGKILL)
    master = NginxRouter(env, folder / "router", "127.0.0.1", 1).pid()
    if master:
        os.kill(master, signal.SIGKILL)


def tampered_copy(artifact: Path, folder: Path) -> Path:
    """A copy of ``artifact`` the service refuses to serve: its sha256 no longer matches."""
    shutil.copytree(artifact, folder)
    with open(folder / "model.joblib", "ab") as handle:
        handle.write(b"tampered")
    return folder
