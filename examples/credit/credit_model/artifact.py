"""The on-disk model artifact: its layout, metadata, hashing and atomic writing.

An artifact is a directory holding `model.joblib` (the fitted pipeline) and
`metadata.json` (a `ModelMetadata`). The sha256 of `model.joblib` is the
model's identity; the harness binds evidence to it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

MODEL_FILE = "model.joblib"
METADATA_FILE = "metadata.json"


class ModelMetadata(BaseModel):
    """What `metadata.json` records about one trained model."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    name: str
    version: str
    artifact_sha256: str
    training_data_sha256: str
    training_rows: int
    seed: int
    sample: int | None = None
    params: dict[str, Any]
    sklearn_version: str
    features: list[str]
    dropped_features: list[str] = []
    label: str
    positive_class: str
    threshold: float = 0.5
    # Not written any more: a timestamp would make the artifact folder's digest (its
    # identity in the harness) differ between two identical trainings.
    trained_at: str | None = None


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_metadata(artifact: str | Path) -> ModelMetadata:
    """Read and validate `metadata.json` of an artifact directory."""
    path = Path(artifact) / METADATA_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {METADATA_FILE} in artifact directory {Path(artifact)}")
    return ModelMetadata.model_validate_json(path.read_text(encoding="utf-8"))


def write_atomically(out_dir: str | Path, fill: Callable[[Path], None]) -> Path:
    """Create `out_dir` by letting `fill` populate a temporary sibling directory,
    then renaming it into place.

    A crash inside `fill` leaves `out_dir` untouched (the old artifact, or
    nothing); the temporary directory is removed.
    """
    out = Path(out_dir).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    # A sibling on the same filesystem, so the final rename is atomic.
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    # mkdtemp makes it private (0700); an artifact must be readable by the
    # service's own user (e.g. a non-root user in the image).
    tmp.chmod(0o755)
    try:
        fill(tmp)
        for child in tmp.iterdir():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
        if out.exists():
            # rename() cannot replace a non-empty directory: move the old one
            # aside first, then drop it once the new one is in place.
            old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
