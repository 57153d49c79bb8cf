"""What ``harness deploy|status|rollback|stop`` do, as functions the CLI and promotion call."""

from __future__ import annotations

from pathlib import Path

from harness.candidate.identity import Candidate, build_candidate
from harness.config import HarnessConfig
from harness.data.digests import identity_digests
from harness.deploy.protection import BreakGlass, guarded
from harness.deploy.registry import get_target
from harness.deploy.target import Deployment
from harness.errors import ConfigError


def candidate_for(
    config: HarnessConfig, artifact: str | Path | None = None, image: str | None = None
) -> Candidate:
    """The candidate for ``artifact`` (default: ``model.artifact``) built from the config's repo;
    its id also covers the config file and the golden manifests it is judged by."""
    if artifact is None:
        if config.model.artifact is None:
            raise ConfigError(
                f"{config.source}: no artifact to deploy; set 'model.artifact' or pass --artifact"
            )
        artifact = config.resolve(config.model.artifact)
    return build_candidate(artifact, image=image, source=config.root,
                           extra=identity_digests(config))


def deploy(config: HarnessConfig, env: str, candidate: Candidate,
           break_glass: BreakGlass | None = None) -> Deployment:
    """Deploy ``candidate`` to ``env`` with the configured target; ready or ``DeployError``.
    A protected environment is refused (``ProtectedEnvironment``) without ``break_glass``."""
    config.environment(env)
    target = get_target(config)
    return guarded(config, env, "deploy", break_glass, target,
                   lambda: target.deploy(env, candidate))


def status(config: HarnessConfig, envs: list[str] | None = None) -> dict[str, Deployment | None]:
    """What is deployed in each environment (all of them by default)."""
    names = envs or list(config.environments)
    for env in names:
        config.environment(env)
    target = get_target(config)
    return {env: target.status(env) for env in names}


def rollback(config: HarnessConfig, env: str,
             break_glass: BreakGlass | None = None) -> Deployment:
    """Run the previous revision of ``env`` again (protected: as ``deploy``)."""
    config.environment(env)
    target = get_target(config)
    return guarded(config, env, "rollback", break_glass, target, lambda: target.rollback(env))


def stop(config: HarnessConfig, env: str, break_glass: BreakGlass | None = None) -> None:
    """Stop serving in ``env`` (protected: as ``deploy``)."""
    config.environment(env)
    target = get_target(config)
    guarded(config, env, "stop", break_glass, target, lambda: target.stop(env))
