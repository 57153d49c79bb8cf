"""A real OCI registry for the tests: Debian's ``docker-registry`` (the CNCF distribution
registry) on a free loopback port, with a throwaway storage folder and config file, with
or without htpasswd basic auth. ``.ci/run`` installs it (and apache2-utils' htpasswd)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.service_process import free_port

START_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class RunningRegistry:
    host: str  # 127.0.0.1:<port>
    storage: Path
    username: str | None = None
    password: str | None = None

    def blob_file(self, digest: str) -> Path:
        """Where the filesystem driver keeps a blob's bytes."""
        hexdigest = digest.removeprefix("sha256:")
        return (self.storage / "docker/registry/v2/blobs/sha256" / hexdigest[:2] / hexdigest
                / "data")


def _require(tool: str, package: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: .ci/run installs Debian's {package} package")
        pytest.skip(f"{tool} is not installed (apt-get install {package})")
    return path


@contextmanager
def running_registry(folder: Path, auth: tuple[str, str] | None = None,
                     port: int | None = None) -> Iterator[RunningRegistry]:
    """Start the registry in ``folder`` (on ``port``, else a free one); stop it after."""
    binary = _require("docker-registry", "docker-registry")
    folder.mkdir(parents=True, exist_ok=True)
    storage = folder / "storage"
    port = port or free_port()
    auth_section = ""
    if auth is not None:
        htpasswd = _require("htpasswd", "apache2-utils")
        # bcrypt: the only hash the registry's htpasswd backend accepts.
        entry = subprocess.run([htpasswd, "-Bbn", *auth], capture_output=True, text=True,
                               timeout=30, check=True).stdout.strip()
        (folder / "htpasswd").write_text(entry + "\n")
        auth_section = f"auth:\n  htpasswd: {{realm: harness-tests, path: {folder / 'htpasswd'}}}\n"
    config = folder / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        f"storage:\n  filesystem: {{rootdirectory: {storage}}}\n"
        "  maintenance: {uploadpurging: {enabled: false}}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: harness-tests\n"
        + auth_section
    )
    log = (folder / "registry.log").open("wb")
    process = subprocess.Popen([binary, "serve", str(config)], stdout=log,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    host = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                if httpx.get(f"http://{host}/v2/", timeout=2).status_code in (200, 401):
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the registry did not start: "
                                   f"{(folder / 'registry.log').read_text()[-500:]}")
            time.sleep(0.1)
        yield RunningRegistry(host, storage, *(auth or (None, None)))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def registry_fixture(tmp_path: Path) -> Iterator[RunningRegistry]:
    """A test module's ``registry`` fixture: ``registry = pytest.fixture(registry_fixture)``."""
    with running_registry(tmp_path / "registry") as running:
        yield running
