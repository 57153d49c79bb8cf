"""A model artifact's identity: one digest over every file in it, whatever they are called.

The digest covers each file's path relative to the artifact and its sha256, so renaming,
adding, removing or changing any file changes it; a single-file artifact is digested the
same way, as a folder of one file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from harness.digests import sha256_file


def artifact_files(artifact: Path) -> list[tuple[str, Path]]:
    """(relative path, file) for every file of the artifact, in a stable order."""
    if artifact.is_file():
        return [(artifact.name, artifact)]
    return sorted((p.relative_to(artifact).as_posix(), p)
                  for p in artifact.rglob("*") if p.is_file())


def artifact_digest(artifact: Path) -> str:
    """The sha256 of the artifact's listing: one ``<relative path> <sha256>`` line per file."""
    listing = "".join(f"{name} {sha256_file(path)}\n" for name, path in artifact_files(artifact))
    return hashlib.sha256(listing.encode()).hexdigest()


def artifact_problem(artifact: Path) -> str | None:
    """Why ``artifact`` cannot be a model artifact (missing, empty), or None when it can."""
    how = "train or download the model first"
    if not artifact.exists():
        return f"{artifact} does not exist; {how}"
    if artifact.is_file():
        return None if artifact.stat().st_size else f"{artifact} is an empty file; {how}"
    if not any(p.is_file() and p.stat().st_size for p in artifact.rglob("*")):
        return f"{artifact} holds no file with content; {how}"
    return None
