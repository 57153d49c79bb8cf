"""A release candidate's identity: what is deployed, as digests.

A ``Candidate`` names one model artifact (by its sha256), optionally one
container image (by digest), the code revision it was built from and, once published,
the OCI reference its bytes are pulled from. Its
``id`` is a short digest of all of them, so two candidates with the same id
are the same thing.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.candidate.artifact import artifact_digest
from harness.errors import DeployError

ID_LENGTH = 12
# Set by the deploy targets for the service; `harness serve` reports it at /version.
MODEL_REFERENCE_ENV = "HARNESS_MODEL_REFERENCE"


@dataclass(frozen=True)
class Candidate:
    """One deployable thing: a model artifact, optionally an image, and its code revision."""

    id: str
    artifact: Path
    artifact_sha256: str
    image: str | None = None
    code_revision: str | None = None
    # Where its bytes live: registry/repository@sha256:... once published (harness publish).
    reference: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "artifact": str(self.artifact)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        return cls(**{**data, "artifact": Path(data["artifact"])})

    @classmethod
    def parse(cls, data: object) -> Candidate:
        """``from_dict`` for what a file says: ``ValueError`` (``TypeError`` for no object at
        all) names what is wrong with it."""
        if not isinstance(data, dict):
            raise TypeError(f"a candidate is an object of its digests, not {data!r}")
        unknown = sorted(set(data) - _FIELDS)
        if unknown:
            raise ValueError(f"a candidate has no field {', '.join(map(repr, unknown))}")
        for name in _FIELDS:
            value = data.get(name)
            if name in _REQUIRED and not (isinstance(value, str) and value):
                raise ValueError(f"a candidate's '{name}' must be a non-empty string, "
                                 f"not {value!r}")
            if value is not None and not isinstance(value, str):
                raise ValueError(f"a candidate's '{name}' must be a string, not {value!r}")
        return cls.from_dict(data)


_FIELDS = {"id", "artifact", "artifact_sha256", "image", "code_revision", "reference"}
_REQUIRED = {"id", "artifact", "artifact_sha256"}


def git_revision(folder: Path) -> str | None:
    """The commit checked out in ``folder``'s repository, or None outside one."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True,
            timeout=10, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def candidate_id(
    artifact_digest: str,
    image: str | None = None,
    code_revision: str | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    """A short digest over everything that identifies a candidate."""
    parts = {"artifact": artifact_digest, "image": image, "code": code_revision, **(extra or {})}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:ID_LENGTH]


def build_candidate(
    artifact: str | Path,
    *,
    image: str | None = None,
    code_revision: str | None = None,
    source: Path | None = None,
    extra: dict[str, str] | None = None,
) -> Candidate:
    """Describe the artifact at ``artifact`` as a candidate.

    ``code_revision`` defaults to the git commit of ``source`` (if given);
    ``extra`` digests (config, golden data) also enter the id.
    """
    path = Path(artifact).resolve()
    if not path.exists():
        raise DeployError(
            f"artifact {path} does not exist; train or build the model first"
        )
    if image is not None and "@sha256:" not in image:
        raise DeployError(
            f"image '{image}' is not pinned by digest; give it as name@sha256:<digest>"
        )
    if code_revision is None and source is not None:
        code_revision = git_revision(source)
    digest = artifact_digest(path)
    return Candidate(
        id=candidate_id(digest, image, code_revision, extra),
        artifact=path,
        artifact_sha256=digest,
        image=image,
        code_revision=code_revision,
    )
