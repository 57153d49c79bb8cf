"""A project on the ``local`` target: its config, with loopback ports of its own."""

from __future__ import annotations

from pathlib import Path

from harness.config import HarnessConfig, load_config
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
