"""Shared fixtures: a model trained once per session, a copy of the reference project
in a temporary folder, and the reference service running on a loopback port."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.service_process import free_port, running_service

__all__ = ["ROOT", "free_port", "write_config"]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def model_artifact(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from service.train import train

    return train(ROOT / "fixtures/credit/train.csv", tmp_path_factory.mktemp("model") / "credit")


def write_config(folder: Path, **changes: Any) -> Path:
    """Write the reference harness.yaml into ``folder`` with top-level ``changes`` applied
    (``model`` changes are merged into the model section)."""
    data = yaml.safe_load((ROOT / "harness.yaml").read_text())
    data["model"].update(changes.pop("model", {}))
    data.update(changes)
    path = folder / "harness.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture
def project(tmp_path: Path, model_artifact: Path) -> Path:
    """A copy of the reference project's data and config, using the session's model;
    its ``pr`` profile runs the built-in checks only."""
    for folder in ("golden", "fixtures"):
        shutil.copytree(ROOT / folder, tmp_path / folder)
    write_config(
        tmp_path,
        model={"artifact": str(model_artifact)},
        profiles={"pr": {"checks": ["schema", "quality"]}},
    )
    return tmp_path


@pytest.fixture(scope="session")
def service_url(model_artifact: Path) -> Iterator[str]:
    """The reference service, started for real on a loopback port for this session."""
    with running_service(model_artifact) as url:
        yield url
