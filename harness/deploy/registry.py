"""Deploy targets found by name: ``local`` (the embedded default) and ``kubernetes``."""

from __future__ import annotations

import importlib

from harness.config import HarnessConfig
from harness.deploy.target import DeployTarget
from harness.errors import ConfigError

# Imported on demand: the local target must not pay for the Kubernetes client.
TARGETS: dict[str, str] = {
    "local": "harness.deploy.local:LocalTarget",
    "kubernetes": "harness.deploy.kubernetes:KubernetesTarget",
}


def get_target(config: HarnessConfig, name: str | None = None) -> DeployTarget:
    """The deploy target ``name`` (default: ``deploy.target`` in the config), set up from config."""
    name = name or config.deploy.target
    try:
        module_name, class_name = TARGETS[name].split(":")
    except KeyError:
        known = ", ".join(sorted(TARGETS))
        raise ConfigError(f"{config.source}: no deploy target '{name}' (known: {known})") from None
    target_class = getattr(importlib.import_module(module_name), class_name)
    target: DeployTarget = target_class(config)
    return target
