"""What every deploy target agrees on: the ``DeployTarget`` protocol and ``Deployment``."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol, runtime_checkable

from harness.candidate.identity import Candidate


@dataclass(frozen=True)
class Deployment:
    """What runs in one environment: which candidate, which revision, where, and whether healthy."""

    env: str
    target: str
    candidate: Candidate
    revision: int
    deployed_at: str
    url: str | None
    healthy: bool
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, for evidence and audit records."""
        return {**asdict(self), "candidate": self.candidate.to_dict()}

    @property
    def artifact_sha256(self) -> str:
        return self.candidate.artifact_sha256

    @property
    def image(self) -> str | None:
        return self.candidate.image


@runtime_checkable
class DeployTarget(Protocol):
    """Where candidates run. ``local`` and ``kubernetes`` implement it; found by name."""

    name: str

    def deploy(self, env: str, candidate: Candidate) -> Deployment:
        """Run ``candidate`` in ``env`` and wait until it is ready.

        If it does not become ready, the previous revision is restored and
        ``DeployError`` is raised.
        """
        ...

    def status(self, env: str) -> Deployment | None:
        """What is deployed in ``env`` and whether it is healthy; None when nothing is."""
        ...

    def wait_ready(self, env: str, timeout_s: float) -> Deployment:
        """Wait until ``env`` serves its current revision; ``DeployError`` if it does not."""
        ...

    def rollback(self, env: str) -> Deployment:
        """Run the revision deployed before the current one again, as a new revision."""
        ...

    def stop(self, env: str) -> None:
        """Stop serving in ``env`` (the history of revisions is kept)."""
        ...


def describe(env: str, deployment: Deployment | None) -> str:
    """One line a person reads: what runs in ``env``, where, and whether it is healthy."""
    if deployment is None:
        return f"{env}: nothing deployed"
    candidate = deployment.candidate
    health = "healthy" if deployment.healthy else "UNHEALTHY"
    parts = [
        f"{env}: {health}", f"candidate {candidate.id}", f"revision {deployment.revision}",
        f"artifact sha256 {candidate.artifact_sha256[:12] or '?'}",
    ]
    if candidate.reference:
        parts.append(f"model {candidate.reference}")
    if candidate.image:
        parts.append(f"image {candidate.image}")
    if deployment.url:
        parts.append(deployment.url)
    parts.append(f"deployed {deployment.deployed_at}")
    line = ", ".join(parts)
    return f"{line} ({deployment.detail})" if deployment.detail else line


def served_artifact_problem(url: str, candidate: Candidate, timeout_s: float = 5.0) -> str | None:
    """None when the service at ``url`` reports the candidate's artifact digest at
    ``/version``; otherwise what it served (or why it could not say) against what was
    expected."""
    import httpx  # here: `harness status` of an empty environment asks no service

    try:
        response = httpx.get(f"{url}/version", timeout=timeout_s)
        body = response.json() if response.status_code == 200 else {}
        served = body.get("artifact_sha256")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return f"{url}/version could not be read ({exc}); the service must report its artifact"
    if served is None:
        return (f"{url}/version answered {response.status_code} without 'artifact_sha256'; "
                "the service must report the digest of the artifact it loaded")
    if served != candidate.artifact_sha256:
        return (f"{url}/version reports artifact sha256 {served}, expected the candidate's "
                f"{candidate.artifact_sha256}; the service loaded another artifact, or digests "
                "it differently (see docs/model-contract.md)")
    reference = body.get("model_reference")
    if candidate.reference and reference and reference != candidate.reference:
        # A server that says where its model came from must name the candidate's digest.
        return (f"{url}/version reports model {reference}, expected the candidate's "
                f"{candidate.reference}")
    return None
