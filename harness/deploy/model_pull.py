"""The model by digest in a Kubernetes pod: an init container pulls the published candidate
into a volume the service container reads (KServe's "modelcar" idea, done with an init
container so it works on every cluster, with or without image volumes).

The init container runs the service image itself (``harness pull``): the image is code
only, built and pinned by digest by the team's own CI; the model is a separate input,
pinned by its manifest digest. The image contract: ``harness`` on the PATH,
``HARNESS_CONFIG`` naming its config, and the service serving ``/models/artifact``.
"""

from __future__ import annotations

import copy
from typing import Any

from harness.candidate.identity import MODEL_REFERENCE_ENV
from harness.config import RegistrySpec

VOLUME = "model"
MOUNT = "/models"
ARTIFACT = f"{MOUNT}/artifact"
INIT_CONTAINER = "model-pull"
PASSWORD_KEY = "password"

Obj = dict[str, Any]


def registry_secret(deployment: str) -> str:
    """The Secret holding the registry password in each namespace (key ``password``)."""
    return f"{deployment}-registry"


def add_model_pull(pod_spec: Obj, container: Obj, reference: str, deployment: str,
                   registry: RegistrySpec | None, protected_env: str | None = None,
                   as_of: str | None = None) -> None:
    """Make ``pod_spec`` pull ``reference`` into the shared volume before ``container``
    starts, and tell the container which reference it serves. Changes ``pod_spec``.
    For a protected environment the pull verifies the model's signed attestations first
    (``harness pull --env``), so a pod never serves an unattested model; their freshness
    is judged ``as_of`` the deploy (in the template), so a pod restarted or scaled up a
    week later still starts."""
    volumes = [v for v in pod_spec.get("volumes", []) if v.get("name") != VOLUME]
    pod_spec["volumes"] = [*volumes, {"name": VOLUME, "emptyDir": {}}]
    env = []
    if registry is not None and registry.password_env is not None:
        env.append({"name": registry.password_env, "valueFrom": {"secretKeyRef": {
            "name": registry_secret(deployment), "key": PASSWORD_KEY}}})
    puller: Obj = {
        "name": INIT_CONTAINER,
        "image": container["image"],
        "command": ["harness", "pull", "--reference", reference, "--out", ARTIFACT,
                    *(["--env", protected_env] if protected_env else []),
                    *(["--as-of", as_of] if protected_env and as_of else [])],
        "volumeMounts": [{"name": VOLUME, "mountPath": MOUNT}],
        **({"env": env} if env else {}),
        **{key: copy.deepcopy(container[key]) for key in ("resources", "securityContext",
                                                          "imagePullPolicy")
           if key in container},
    }
    others = [c for c in pod_spec.get("initContainers", []) if c.get("name") != INIT_CONTAINER]
    pod_spec["initContainers"] = [*others, puller]
    mounts = [m for m in container.get("volumeMounts", []) if m.get("name") != VOLUME]
    container["volumeMounts"] = [*mounts, {"name": VOLUME, "mountPath": MOUNT,
                                           "readOnly": True}]
    variables = [v for v in container.get("env", []) if v.get("name") != MODEL_REFERENCE_ENV]
    container["env"] = [*variables, {"name": MODEL_REFERENCE_ENV, "value": reference}]
