"""Identity before judgement: a check against an environment first asks the service that
answers there which artifact it serves, and refuses to judge another one.

Without it, a service another project left on the port (or one this project never
deployed) was checked in full and its figures recorded under this project's candidate.
"""

from __future__ import annotations

from harness.deploy.target import Deployment
from harness.errors import WrongService
from harness.gates.context import RunContext


def served_digest(url: str, timeout_s: float = 5.0) -> str | None:
    """The artifact sha256 the service at ``url`` reports at ``/version``, or None when it
    reports none (no such endpoint, no answer, another shape)."""
    import httpx  # here: preflight's module level stays light

    try:
        response = httpx.get(f"{url.rstrip('/')}/version", timeout=timeout_s)
        served = response.json().get("artifact_sha256") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, AttributeError):
        return None
    return served if isinstance(served, str) else None


def check_identity(context: RunContext, deployed: Deployment | None) -> None:
    """Refuse (``WrongService``, exit 2) unless the service the run's profile checks serves
    the candidate this project deployed in its environment (``deployed``)."""
    environment, url = context.environment, context.target_url
    assert environment is not None and url is not None  # a profile that checks an environment
    served = served_digest(url)
    answering = f"artifact sha256 {served}" if served else "no artifact digest at /version"
    refused = (f"{context.config.source}: profile '{context.profile_name}' checks "
               f"{environment}, but {url} answers with {answering}")
    todo = (f"nothing was run or recorded. Stop that service or give {environment} another "
            f"port, then deploy this project's candidate (harness deploy --env {environment})")
    if deployed is None or not deployed.candidate.artifact_sha256:
        # No record, or a Kubernetes Deployment this project did not make (no candidate).
        raise WrongService(f"{refused} and this project deployed nothing there (expected no "
                           f"service: it is another project's or one started by hand); {todo}",
                           path=context.config.source)
    expected = deployed.candidate.artifact_sha256
    if served != expected:
        raise WrongService(f"{refused}, not the artifact sha256 {expected} of candidate "
                           f"{deployed.candidate.id} that this project deployed there "
                           f"(revision {deployed.revision}); {todo}",
                           path=context.config.source, candidate=deployed.candidate.id)
