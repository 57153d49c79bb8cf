"""``harness build``: run the team's own command that makes the model artifact
(``model.build``), then check that it made one. The harness never trains a model itself;
this is how a pipeline runs the team's training (or download) the same way everywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.candidate import lineage
from harness.candidate.artifact import artifact_digest, artifact_problem
from harness.clock import utc_now
from harness.config import HarnessConfig
from harness.errors import BuildError, ConfigError


@dataclass(frozen=True)
class BuiltArtifact:
    """The artifact a build left at ``model.artifact``; ``command`` is None when the config
    names no build and the artifact was already there."""

    path: Path
    sha256: str
    command: list[str] | None
    lineage: Path | None = None  # what made it (harness.candidate.lineage)


def build_command(config: HarnessConfig) -> list[str] | None:
    """``model.build`` with ``{python}`` filled in: the interpreter the harness runs on, so
    the team's build sees the same packages as its model's entry point (a bare ``python``
    finds the same one first on the PATH)."""
    if config.model.build is None:
        return None
    return [word.replace("{python}", sys.executable) for word in config.model.build]


def build(config: HarnessConfig) -> BuiltArtifact:
    """Run ``model.build`` from the config's folder (which is importable, as for the entry
    point) and check the artifact it wrote; without a build, check the artifact is there."""
    if config.model.artifact is None:
        raise ConfigError(f"{config.source}: key 'model.artifact' is not set: name the folder "
                          "the build writes the model to")
    artifact = config.resolve(config.model.artifact)
    command = build_command(config)
    started_at = utc_now()
    parameters = None
    if command is not None:
        with tempfile.TemporaryDirectory(prefix="harness-build-") as scratch:
            params = Path(scratch) / "params.json"
            _run(config, command, {lineage.PARAMS_ENV: str(params)})
            parameters = lineage.read_parameters(params)
    problem = artifact_problem(artifact)
    if problem is not None:
        what = ("the build ran but left no artifact: " if command is not None
                else "model.build is not set and ")
        raise BuildError(f"{config.source}: {what}{problem} (key 'model.artifact')")
    sha256 = artifact_digest(artifact)
    return BuiltArtifact(artifact, sha256, command,
                         lineage.record(config, artifact, sha256, config.model.build,
                                        started_at, utc_now(), parameters))


def _run(config: HarnessConfig, command: list[str], extra: dict[str, str]) -> None:
    # As in an activated virtualenv: `python` in the command is the harness's own.
    env = {**config.child_env(), **extra}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    try:
        finished = subprocess.run(command, cwd=config.root, env=env,
                                  stdin=subprocess.DEVNULL, check=False)
    except OSError as exc:
        raise BuildError(f"{config.source}: key 'model.build': cannot run "
                         f"'{command[0]}' ({exc.strerror}); correct the command") from None
    if finished.returncode != 0:
        raise BuildError(f"{config.source}: the build (model.build: {' '.join(command)}) "
                         f"exited {finished.returncode}; its output is above")

