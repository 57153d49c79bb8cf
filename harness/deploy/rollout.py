"""How ``kubectl`` judges and undoes a Deployment rollout, on plain API objects (dicts).

``rollout_status`` decides as ``kubectl rollout status`` does for a Deployment
(k8s.io/kubectl/pkg/polymorphichelpers/rollout_status.go); ``rollback_patch``
builds the patch ``kubectl rollout undo`` sends (rollback.go): the pod template
of the ReplicaSet with the previous revision, minus its pod-template-hash label,
and that ReplicaSet's annotations.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from harness.errors import DeployError

REVISION = "deployment.kubernetes.io/revision"
POD_TEMPLATE_HASH = "pod-template-hash"
# Annotations kubectl keeps from the Deployment instead of taking them from the ReplicaSet.
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})

Obj = dict[str, Any]


@dataclass(frozen=True)
class RolloutStatus:
    """Whether a rollout is done, has failed, and kubectl's words for where it is."""

    done: bool
    failed: bool
    message: str


def rollout_status(deployment: Obj) -> RolloutStatus:
    """Decide a Deployment's rollout state exactly as ``kubectl rollout status`` does."""
    name = deployment["metadata"]["name"]
    spec, status = deployment.get("spec", {}), deployment.get("status") or {}
    generation = deployment["metadata"].get("generation", 0)
    if generation > status.get("observedGeneration", 0):
        return RolloutStatus(False, False, "Waiting for deployment spec update to be observed...")
    progressing = next(
        (c for c in status.get("conditions", []) if c.get("type") == "Progressing"), None
    )
    if progressing is not None and progressing.get("reason") == "ProgressDeadlineExceeded":
        return RolloutStatus(False, True, f'deployment "{name}" exceeded its progress deadline')
    replicas = spec.get("replicas")
    updated = status.get("updatedReplicas", 0)
    total = status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    if replicas is not None and updated < replicas:
        return RolloutStatus(False, False, f'Waiting for deployment "{name}" rollout to finish: '
                             f"{updated} out of {replicas} new replicas have been updated...")
    if total > updated:
        return RolloutStatus(False, False, f'Waiting for deployment "{name}" rollout to finish: '
                             f"{total - updated} old replicas are pending termination...")
    if available < updated:
        return RolloutStatus(False, False, f'Waiting for deployment "{name}" rollout to finish: '
                             f"{available} of {updated} updated replicas are available...")
    return RolloutStatus(True, False, f'deployment "{name}" successfully rolled out')


def revision_of(obj: Obj) -> int | None:
    """The ``deployment.kubernetes.io/revision`` of a ReplicaSet or Deployment, if it has one."""
    value = (obj.get("metadata", {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def owned_by(deployment: Obj, replica_sets: list[Obj]) -> list[Obj]:
    """The ReplicaSets whose controller is this Deployment (matched by uid, as kubectl does)."""
    uid = deployment["metadata"].get("uid")
    return [
        rs for rs in replica_sets
        if any(ref.get("controller") and ref.get("uid") == uid
               for ref in rs["metadata"].get("ownerReferences", []))
    ]


def previous_replica_set(deployment: Obj, replica_sets: list[Obj]) -> Obj:
    """The ReplicaSet holding the revision before the newest one (``rollout undo``'s choice)."""
    revisions = sorted(
        ((rev, rs) for rs in owned_by(deployment, replica_sets)
         if (rev := revision_of(rs)) is not None),
        key=lambda pair: pair[0],
    )
    if len(revisions) < 2:
        raise DeployError(
            f"no rollout history found for deployment "
            f"\"{deployment['metadata']['name']}\" in namespace "
            f"'{deployment['metadata'].get('namespace')}': nothing to roll back to"
        )
    return revisions[-2][1]


def _without_hash(template: Obj) -> Obj:
    template = copy.deepcopy(template)
    labels = template.get("metadata", {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
    return template


def rollback_patch(deployment: Obj, replica_set: Obj) -> list[Obj] | None:
    """The JSON patch that restores ``replica_set``'s template, or None when it already runs."""
    if deployment.get("spec", {}).get("paused"):
        raise DeployError(
            f"deployment \"{deployment['metadata']['name']}\" is paused; "
            "resume it (kubectl rollout resume) before rolling back"
        )
    template = _without_hash(replica_set["spec"]["template"])
    if template == _without_hash(deployment["spec"]["template"]):
        return None
    current = deployment["metadata"].get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update({
        k: v for k, v in (replica_set["metadata"].get("annotations") or {}).items()
        if k not in ANNOTATIONS_TO_SKIP
    })
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
