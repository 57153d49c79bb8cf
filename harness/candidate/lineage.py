"""What made an artifact: the run of the team's build that ``harness build`` recorded.

Kept beside the artifact (``<artifact>.lineage.json``), not in it: a lineage holds when the
build ran, and putting that in the artifact would give every rebuild of the same bytes a
new digest. It names the artifact's sha256, so a lineage is only shown for the artifact it
describes. The code revision is ``$HARNESS_CODE_REVISION`` when the build passes one (a CI
checkout without ``.git``), else the git commit of the config's folder. The build's
parameters are what it wrote, as one JSON object, to the file ``$HARNESS_BUILD_PARAMS``
names (as a CI step writes its outputs to ``$GITHUB_OUTPUT``); none when it wrote nothing.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.candidate.identity import git_revision
from harness.config import HarnessConfig
from harness.digests import sha256_file
from harness.errors import BuildError
from harness.text import clip

CODE_REVISION_ENV = "HARNESS_CODE_REVISION"
PARAMS_ENV = "HARNESS_BUILD_PARAMS"
PARAMS_LIMIT = 64 * 1024  # bytes: parameters, not the training data


@dataclass(frozen=True)
class Lineage:
    artifact_sha256: str
    code_revision: str | None
    command: list[str] | None  # model.build as written; None: nothing was built
    training_data: str | None  # the training file, relative to the config's folder
    training_sha256: str | None
    started_at: str
    finished_at: str
    parameters: dict[str, Any] | None = None  # what the build wrote to $HARNESS_BUILD_PARAMS


def lineage_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ".lineage.json")


def code_revision(config: HarnessConfig) -> str | None:
    return os.environ.get(CODE_REVISION_ENV) or git_revision(config.root)


def read_parameters(path: Path) -> dict[str, Any] | None:
    """The JSON object a build wrote to ``$HARNESS_BUILD_PARAMS``; None when it wrote
    nothing. ``BuildError`` for anything else (not JSON, not an object, too large)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if not raw.strip():
        return None
    where = f"the build's parameters ({PARAMS_ENV}, {path})"
    if len(raw) > PARAMS_LIMIT:
        raise BuildError(f"{where} hold {len(raw)} bytes, more than {PARAMS_LIMIT}: write "
                         "the parameters, not data")
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BuildError(f"{where} are not JSON ({clip(exc)}): write one JSON object, "
                         'e.g. {"learning_rate": 0.1}') from None
    if not isinstance(value, dict):
        raise BuildError(f"{where} are a JSON {type(value).__name__}, not an object: write "
                         'one JSON object, e.g. {"learning_rate": 0.1}')
    return value


def record(config: HarnessConfig, artifact: Path, sha256: str, command: list[str] | None,
           started_at: str, finished_at: str,
           parameters: dict[str, Any] | None = None) -> Path:
    """Write the lineage of the artifact a build just made (or found)."""
    training = config.training
    location = config.resolve(training.path) if training is not None else None
    lineage = Lineage(
        artifact_sha256=sha256, code_revision=code_revision(config), command=command,
        training_data=training.path.as_posix() if training is not None else None,
        training_sha256=sha256_file(location) if location is not None and location.is_file()
        else None,
        started_at=started_at, finished_at=finished_at, parameters=parameters)
    path = lineage_path(artifact)
    path.write_text(json.dumps(asdict(lineage), indent=2) + "\n", encoding="utf-8")
    return path


def read(artifact: Path, sha256: str) -> Lineage | None:
    """The recorded lineage of exactly this artifact; None when none was recorded, it is
    unreadable, or it describes other bytes (a rebuild without ``harness build``)."""
    try:
        data = json.loads(lineage_path(artifact).read_text(encoding="utf-8"))
        lineage = Lineage(**data)
    except (OSError, ValueError, TypeError):
        return None
    return lineage if lineage.artifact_sha256 == sha256 else None
