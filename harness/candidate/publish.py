"""Candidates that travel by digest: ``harness publish`` pushes the model artifact folder to
the configured OCI registry; a deploy turns the printed reference back into a candidate and
pulls exactly those bytes, checked, into the folder the service loads.

A published candidate's id covers the manifest digest, so its evidence is bound to it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.candidate.identity import Candidate, candidate_id, git_revision
from harness.candidate.oci import Credentials, Reference, Session, pull_folder, push_folder
from harness.config import HarnessConfig, RegistrySpec
from harness.data.digests import identity_digests
from harness.errors import ConfigError, RegistryError

# Pulled candidates, by manifest digest, under deploy.state_dir: what evidence checks refer to.
CACHE = "oci"


@dataclass(frozen=True)
class Published:
    reference: Reference  # with the tag, when one was pushed
    artifact_sha256: str

    @property
    def pinned(self) -> str:
        return self.reference.pinned


def registry_spec(config: HarnessConfig) -> RegistrySpec:
    if config.registry is None:
        raise ConfigError(f"{config.source}: no 'registry' section: say where candidates are "
                          "published (registry.host, registry.repository)")
    return config.registry


def credentials(config: HarnessConfig) -> Credentials | None:
    """The registry login: username from the config, password from its variable or file."""
    spec = registry_spec(config)
    if spec.username is None:
        return None
    if spec.password_env is not None:
        password = os.environ.get(spec.password_env)
        if not password:
            raise ConfigError(f"{config.source}: key 'registry.password_env': the environment "
                              f"variable {spec.password_env} is not set")
    else:
        path = config.resolve(spec.password_file)  # type: ignore[arg-type]
        try:
            password = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(f"{config.source}: key 'registry.password_file': cannot read "
                              f"{path} ({exc.strerror})") from None
    return Credentials(spec.username, password)


def session(config: HarnessConfig, reference: Reference) -> Session:
    """A session with the reference's registry; the configured login applies to the
    configured registry only."""
    spec = registry_spec(config)
    login = credentials(config) if reference.registry == spec.host else None
    return Session(reference, insecure=spec.insecure, credentials=login,
                   timeout_s=spec.timeout_s)


def publish(config: HarnessConfig, artifact: Path | None = None,
            tag: str | None = None) -> Published:
    """Push the artifact folder (default: ``model.artifact``) to the configured repository."""
    spec = registry_spec(config)
    if artifact is None:
        if config.model.artifact is None:
            raise ConfigError(f"{config.source}: no artifact to publish; set 'model.artifact' "
                              "or pass --artifact")
        artifact = config.resolve(config.model.artifact)
    folder = artifact.resolve()
    target = Reference(spec.host, spec.repository)
    reference = push_folder(session(config, target), folder, config.project,
                            git_revision(config.root), tag)
    pulled = session(config, reference).manifest()  # read back: the registry holds it
    return Published(reference, pulled.artifact_sha256)


def parse_pinned(text: str) -> Reference:
    """A reference that names one set of bytes: ``registry/repo[:tag]@sha256:...``."""
    reference = Reference.parse(text)
    reference.require_digest()
    return reference


def candidate_from_reference(config: HarnessConfig, text: str,
                             image: str | None = None) -> Candidate:
    """The candidate a published reference names, pulled (every byte checked) into the local
    cache the evidence refers to. Its id covers the manifest digest."""
    reference = parse_pinned(text)
    digest = reference.require_digest()
    cache = config.state_dir() / CACHE / digest.replace(":", "-")
    registry = session(config, reference)
    manifest = registry.manifest()  # refuses a moved tag before anything is pulled
    if not cache.is_dir():
        pull_folder(registry, cache)
    if image is not None and "@sha256:" not in image:
        raise RegistryError(f"image '{image}' is not pinned by digest; give it as "
                            "name@sha256:<digest>")
    extra = {**identity_digests(config), "reference": reference.pinned}
    return Candidate(
        id=candidate_id(manifest.artifact_sha256, image, manifest.revision, extra),
        artifact=cache.resolve(), artifact_sha256=manifest.artifact_sha256, image=image,
        code_revision=manifest.revision, reference=reference.pinned,
    )


def pull_candidate(config: HarnessConfig, candidate: Candidate, destination: Path) -> Path:
    """Pull a published candidate's bytes from the registry into ``destination``, checked
    against the manifest digest, every layer's digest and the candidate's artifact digest."""
    if candidate.reference is None:
        raise RegistryError(f"candidate {candidate.id} was never published; nothing to pull")
    reference = parse_pinned(candidate.reference)
    pull_folder(session(config, reference), destination, candidate.artifact_sha256)
    return destination


def pull(config: HarnessConfig, text: str, destination: Path) -> Path:
    """Pull the artifact a pinned reference names into ``destination`` (a new folder)."""
    reference = parse_pinned(text)
    pull_folder(session(config, reference), destination)
    return destination
