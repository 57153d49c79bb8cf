"""The HTTP contract: the documented OpenAPI document, and the `contract` check against a
service that speaks it and one that does not."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import load_config
from harness.processes import wait_ready
from harness.run.verdict import decide
from harness.server.openapi import contract_document
from tests.support.project import EXAMPLE, ROOT, write_config
from tests.support.service_process import free_port


def test_the_documented_contract_is_what_the_server_serves() -> None:
    documented = json.loads((ROOT / "docs/openapi.json").read_text())
    assert documented == contract_document(load_config(EXAMPLE / "harness.yaml")), (
        "docs/openapi.json is out of date: regenerate it from "
        "harness.server.openapi.contract_document")
    assert {"/predict", "/predict/batch", "/health", "/ready", "/version", "/metrics"} <= set(
        documented["paths"])


@pytest.fixture
def not_a_model_service(tmp_path: Path) -> Iterator[str]:
    """A real HTTP server on loopback that knows nothing of the contract."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                                "127.0.0.1", "--directory", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_ready(f"http://127.0.0.1:{port}/", 20, process.pid) is None
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _contract_run(project: Path, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", "check", "--profile", "contract", "--target-url", url],
        cwd=project, capture_output=True, text=True, timeout=300, check=False)


def _project(folder: Path) -> Path:
    for name in ("golden", "credit_model"):
        (folder / name).symlink_to(EXAMPLE / name)
    write_config(folder, training=None, profiles={"contract": {"checks": ["contract"]}})
    return folder


def test_the_generic_server_passes_every_contract_testcase(tmp_path: Path,
                                                           service_url: str) -> None:
    result = _contract_run(_project(tmp_path), service_url)
    assert result.returncode == 0, result.stdout + result.stderr
    cases = decide([tmp_path / "reports/contract/junit/checks.xml"]).cases
    names = {f"{c.classname}/{c.name}" for c in cases}
    assert {"contract.version/artifact_sha256", "contract.predict/probability",
            "contract.predict_batch/predictions.probability", "contract.ready/status"} <= names
    assert all(c.status == "passed" for c in cases)


def test_a_service_that_does_not_speak_the_contract_fails_each_testcase(
        tmp_path: Path, not_a_model_service: str) -> None:
    result = _contract_run(_project(tmp_path), not_a_model_service)
    assert result.returncode == 1, result.stdout + result.stderr
    cases = decide([tmp_path / "reports/contract/junit/checks.xml"]).cases
    failed = {f"{c.classname}/{c.name}": c.message for c in cases if c.status == "failed"}
    assert "answered 404, expected 200" in failed["contract.version/status"]
    assert "did not answer JSON" in failed["contract.version/artifact_sha256"]
    assert "answered 501" in failed["contract.predict/status"]  # http.server has no POST
