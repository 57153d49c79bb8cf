"""A project on the ``kubernetes`` target, and manifests validated against the Kubernetes
schemas (offline)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate

from harness.config import HarnessConfig, load_config
from tests.support.project import EXAMPLE, write_config

NAMESPACE = "credit-staging"


def image(tag: str) -> str:
    return f"registry.example.com/credit-scoring@sha256:{tag * 64}"


def kube_config(folder: Path, kubeconfig: Path) -> HarnessConfig:
    for name in ("golden", "fixtures", "credit_model"):
        if not (folder / name).exists():
            (folder / name).symlink_to(EXAMPLE / name)
    overlays = EXAMPLE / "deploy/k8s/overlays"
    path = write_config(
        folder,
        profiles={"pr": {"checks": ["schema"]}},
        deploy={"target": "kubernetes", "kubernetes": {"kubeconfig": str(kubeconfig)}},
        environments={
            env: {"namespace": f"credit-{env}", "kustomize": str(overlays / env),
                  "url": f"http://credit-scoring.credit-{env}.svc"}
            for env in ("staging", "production")
        },
    )
    return load_config(path)


# The Kubernetes version the manifests are validated against (kubectl on our machines is 1.32).
KUBERNETES_VERSION = "1.32.0"


def validate(objects: list[dict[str, Any]]) -> None:
    for obj in objects:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)

def gateway_config(folder: Path, kubeconfig: Path | None = None,
                   **shadow: Any) -> HarnessConfig:
    """The reference config on the kubernetes target, production behind a Gateway."""
    for name in ("golden", "fixtures", "credit_model"):
        (folder / name).symlink_to(EXAMPLE / name)
    overlays = EXAMPLE / "deploy/k8s/overlays"
    kubernetes = {"kubeconfig": str(kubeconfig)} if kubeconfig else {}
    return load_config(write_config(
        folder, profiles={"pr": {"checks": ["schema"]}},
        deploy={"target": "kubernetes", "kubernetes": kubernetes},
        release={"shadow": shadow},
        environments={
            "staging": {"namespace": "credit-staging", "kustomize": str(overlays / "staging")},
            "production": {"namespace": "credit-production",
                           "kustomize": str(overlays / "production"),
                           "gateway": {"name": "public", "namespace": "gateway-system",
                                       "hostnames": ["credit.example.com"]}},
        }))
