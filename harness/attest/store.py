"""Where attestations are kept on this machine: under the state folder, one folder per
artifact digest (``<state_dir>/attestations/sha256-<hex>/``), each envelope in a file named
by its kind and the digest of its bytes, written atomically and never changed."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from harness.config import HarnessConfig

FOLDER = "attestations"


def folder(config: HarnessConfig, artifact_sha256: str) -> Path:
    return config.state_dir() / FOLDER / f"sha256-{artifact_sha256}"


def save(config: HarnessConfig, artifact_sha256: str, kind: str, envelope: bytes) -> Path:
    """Keep ``envelope``; its path."""
    where = folder(config, artifact_sha256)
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{kind}-{hashlib.sha256(envelope).hexdigest()[:16]}.dsse.json"
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(envelope)
    os.replace(temporary, path)
    return path


def load(config: HarnessConfig, artifact_sha256: str) -> list[tuple[str, bytes]]:
    """Every envelope kept for the digest, oldest first, as (file name, bytes)."""
    where = folder(config, artifact_sha256)
    if not where.is_dir():
        return []
    files = sorted(where.glob("*.dsse.json"), key=lambda p: (p.stat().st_mtime, p.name))
    return [(p.name, p.read_bytes()) for p in files]
