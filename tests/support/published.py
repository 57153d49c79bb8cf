"""A project that publishes to a real registry, and the CLI run in this process against it."""

from __future__ import annotations

import os
import re
from pathlib import Path

from harness.config import HarnessConfig, load_config
from tests.support.cli import Result, in_process
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
    """Run the CLI in this process with the registry's password in the environment (or
    none); the exit code, stdout and stderr are what a shell would see."""
    saved = os.environ.pop(PASSWORD_ENV, None)
    if password is not None:
        os.environ[PASSWORD_ENV] = password
    try:
        return in_process(config.source, *args)
    finally:
        os.environ.pop(PASSWORD_ENV, None)
        if saved is not None:
            os.environ[PASSWORD_ENV] = saved


def publish(config: HarnessConfig, *args: str, password: str | None = None) -> str:
    result = harness(config, "publish", *args, password=password)
    assert result.returncode == 0, result.stderr
    reference = result.stdout.strip()
    assert PINNED.match(reference), reference
    return reference
