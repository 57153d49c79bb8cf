"""Kubernetes manifests: built from a kustomize overlay, stamped with the candidate."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from harness.candidate.identity import Candidate
from harness.config import RegistrySpec
from harness.deploy.model_pull import add_model_pull
from harness.errors import DeployError

CANDIDATE_ANNOTATION = "harness.dev/candidate"
CANDIDATE_ID_ANNOTATION = "harness.dev/candidate-id"
ARTIFACT_ANNOTATION = "harness.dev/artifact-sha256"
DEPLOYED_AT_ANNOTATION = "harness.dev/deployed-at"

Obj = dict[str, Any]


def kustomize_build(overlay: Path, timeout_s: float = 60.0) -> list[Obj]:
    """The objects ``kubectl kustomize <overlay>`` renders."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise DeployError("kubectl is not installed; it renders the manifests (kubectl kustomize)")
    if not overlay.is_dir():
        raise DeployError(f"kustomize overlay {overlay} does not exist")
    try:
        result = subprocess.run(
            [kubectl, "kustomize", str(overlay)], capture_output=True, text=True,
            timeout=timeout_s, check=False,
        )
    except subprocess.TimeoutExpired:
        raise DeployError(f"kubectl kustomize {overlay} took more than {timeout_s:g}s") from None
    if result.returncode != 0:
        raise DeployError(f"kubectl kustomize {overlay} failed: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def find(objects: list[Obj], object_kind: str, name: str) -> Obj | None:
    return next(
        (o for o in objects
         if o.get("kind") == object_kind and o["metadata"].get("name") == name), None
    )


def stamp_candidate(
    objects: list[Obj], candidate: Candidate, deployment: str, container: str, deployed_at: str,
    registry: RegistrySpec | None = None, protected_env: str | None = None,
) -> list[Obj]:
    """Copies of ``objects`` whose Deployment runs the candidate's image and names the candidate.

    The candidate goes on the pod template too, so each ReplicaSet (and so a
    rollback) carries the identity of what it runs. A published candidate's model is
    pulled by digest into the pod by an init container (``model_pull``).
    """
    if not candidate.image:
        raise DeployError(
            f"candidate {candidate.id} has no container image; the kubernetes target needs one "
            "(name@sha256:<digest>)"
        )
    objects = copy.deepcopy(objects)
    target = find(objects, "Deployment", deployment)
    if target is None:
        raise DeployError(f"the manifests have no Deployment named '{deployment}' "
                          "(set deploy.kubernetes.deployment)")
    containers = target["spec"]["template"]["spec"]["containers"]
    named = next((c for c in containers if c["name"] == container), None)
    if named is None:
        raise DeployError(f"Deployment '{deployment}' has no container named '{container}' "
                          "(set deploy.kubernetes.container)")
    named["image"] = candidate.image
    if candidate.reference is not None:
        add_model_pull(target["spec"]["template"]["spec"], named, candidate.reference,
                       deployment, registry, protected_env, deployed_at)
    identity = {
        CANDIDATE_ANNOTATION: json.dumps(candidate.to_dict(), sort_keys=True),
        CANDIDATE_ID_ANNOTATION: candidate.id,
        ARTIFACT_ANNOTATION: candidate.artifact_sha256,
    }
    target["metadata"].setdefault("annotations", {}).update(
        {**identity, DEPLOYED_AT_ANNOTATION: deployed_at}
    )
    template_meta = target["spec"]["template"].setdefault("metadata", {})
    template_meta.setdefault("annotations", {}).update(identity)
    return objects
