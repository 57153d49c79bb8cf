"""A project that publishes to a real registry, and the CLI run in this process against it."""

from __future__ import annotations

import contextlib
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

from harness.cli import main
from harness.config import HarnessConfig, load_config
from tests.support.oci_registry import RunningRegistry
from tests.support.project import EXAMPLE, write_config
from tests.support.service_process import free_port

PASSWORD_ENV = "TEST_REGISTRY_PASSWORD"


PINNED = re.compile(r"^127\.0\.0\.1:\d+/credit/model@sha256:[0-9a-f]{64}$")


def project(folder: Path, artifact: Path, registry: RunningRegistry, **changes: object
            ) -> HarnessConfig:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("golden", "fixtures", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    section: dict[str, object] = {"host": registry.host, "repository": "credit/model",
                                  "insecure": True, "timeout_s": 10}
    if registry.username:
        section |= {"username": registry.username, "password_env": PASSWORD_ENV}
    write_config(
        folder, model={"artifact": str(artifact)}, profiles={"pr": {"checks": ["schema"]}},
        deploy={"state_dir": "state", "ready_timeout_s": 60},
        environments={"staging": {"port": free_port()}, "production": {"port": free_port()}},
        registry=section, **changes,
    )
    return load_config(folder / "harness.yaml")


def harness(config: HarnessConfig, *args: str, password: str | None = None) -> Result:
    """Run the CLI in this process (its import costs seconds on a shared host); the exit
    code, stdout and stderr are what a shell would see."""
    saved = os.environ.pop(PASSWORD_ENV, None)
    if password is not None:
        os.environ[PASSWORD_ENV] = password
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["--config", str(config.source), *args])
    finally:
        os.environ.pop(PASSWORD_ENV, None)
        if saved is not None:
            os.environ[PASSWORD_ENV] = saved
    return Result(code, out.getvalue(), err.getvalue())


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def publish(config: HarnessConfig, *args: str, password: str | None = None) -> str:
    result = harness(config, "publish", *args, password=password)
    assert result.returncode == 0, result.stderr
    reference = result.stdout.strip()
    assert PINNED.match(reference), reference
    return reference
