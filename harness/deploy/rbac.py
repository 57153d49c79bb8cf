"""RBAC for a protected environment's namespace: one ServiceAccount (the promote job's) is
the only subject bound to write it. A cluster administrator applies these once; nothing
else should bind write access in that namespace (the staging job's account gets a Role in
staging only), so only `harness promote`, run as that account, changes production."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.config import HarnessConfig
from harness.errors import ConfigError

Obj = dict[str, Any]

# What the kubernetes target does in the namespace: server-side apply of the overlay's
# objects, reading the rollout, the rollback patch, and the HTTPRoute (docs/kubernetes.md).
RULES = [
    {"apiGroups": [""], "resources": ["services", "serviceaccounts", "configmaps"],
     "verbs": ["get", "list", "watch", "create", "patch"]},
    {"apiGroups": ["apps"], "resources": ["deployments"],
     "verbs": ["get", "list", "watch", "create", "patch", "update"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
    # The environment's HTTPRoute (environments.<env>.gateway) and a shadow's mirror on it.
    {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["httproutes"],
     "verbs": ["get", "create", "patch"]},
]


def promotion_rbac(namespace: str, service_account: str, account_namespace: str,
                   name: str = "harness-promote", shadow: str | None = None) -> list[Obj]:
    """The ServiceAccount of the promote job (in ``account_namespace``, where the job runs),
    a Role writing ``namespace``, its RoleBinding, and the ClusterRole(Binding) that lets
    it patch that one Namespace object (the overlays apply it). With ``shadow``, the Role
    may also delete the Deployment and Service of that name (a shadow's, once judged)."""
    labels = {"app.kubernetes.io/managed-by": "harness", "harness.dev/protects": namespace}
    subject = [{"kind": "ServiceAccount", "name": service_account,
                "namespace": account_namespace}]
    cluster_name = f"{name}-{namespace}"
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": service_account, "namespace": account_namespace,
                      "labels": labels}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
         "metadata": {"name": name, "namespace": namespace, "labels": labels},
         "rules": RULES + ([{"apiGroups": ["", "apps"], "resources": ["services", "deployments"],
                              "resourceNames": [shadow], "verbs": ["delete"]}] if shadow else [])},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": {"name": name, "namespace": namespace, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": subject},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": cluster_name, "labels": labels},
         "rules": [{"apiGroups": [""], "resources": ["namespaces"],
                    "resourceNames": [namespace], "verbs": ["get", "patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": cluster_name, "labels": labels},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": cluster_name},
         "subjects": subject},
    ]


def write_rbac(config: HarnessConfig, env: str, service_account: str, account_namespace: str,
               out: Path) -> Path:
    """Write ``promotion_rbac`` for protected ``env``'s namespace to ``out/rbac-<env>.yaml``."""
    import yaml

    spec = config.environment(env)
    if spec.namespace is None or not config.protected(env):
        raise ConfigError(f"{config.source}: environment {env} needs a 'namespace' and must "
                          "be protected to render its RBAC", key=f"environments.{env}")
    from harness.deploy.httproute import SHADOW_SUFFIX

    shadow = (config.deploy.kubernetes.deployment or config.project) + SHADOW_SUFFIX
    objects = promotion_rbac(spec.namespace, service_account, account_namespace,
                             shadow=shadow if spec.gateway is not None else None)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"rbac-{env}.yaml"
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    return path
