"""A shadow on the kubernetes target: the candidate as a Deployment and Service of its own
beside the environment's (``<name>-shadow``, one replica, pods no production selector
matches), and the environment's HTTPRoute with a ``RequestMirror`` filter copying
``/predict`` requests to it for the window. Afterwards the filter is removed and the shadow
deleted, whatever happened (harness/deploy/httproute.py renders both forms of the route;
the target applies them server-side, so the second removes the filter).

The mirror is turned on only when the shadow's Service exists: a mirror to a missing
backend is a route the Gateway may reject, and production's traffic goes through that route.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.candidate.identity import Candidate
from harness.clock import utc_now
from harness.config import HarnessConfig, RegistrySpec
from harness.deploy.httproute import SHADOW_SUFFIX, overlay_objects, route_for, service_backend
from harness.deploy.kubernetes import KubernetesTarget
from harness.deploy.manifests import find, stamp_candidate
from harness.errors import DeployError

Obj = dict[str, Any]
ROLE_LABEL = "harness.dev/role"
LABEL_VALUE_MAX = 63


@dataclass(frozen=True)
class KubernetesShadow:
    """A shadow while it runs: the route as applied, and where production's and the
    shadow's Services answer inside the cluster."""

    env: str
    route: Obj
    production_url: str
    shadow_url: str


def _shadowed(labels: dict[str, str], keys: set[str]) -> dict[str, str]:
    """``labels`` with the value of each of ``keys`` marked as the shadow's."""
    shadowed = {k: f"{v}{SHADOW_SUFFIX}" if k in keys else v for k, v in labels.items()}
    too_long = sorted(k for k, v in shadowed.items() if len(v) > LABEL_VALUE_MAX)
    if too_long:
        raise DeployError(f"the shadow's value of label {too_long[0]} ('{shadowed[too_long[0]]}') "
                          f"is longer than Kubernetes allows ({LABEL_VALUE_MAX}); shorten "
                          "the overlay's value")
    return shadowed


def shadow_objects(objects: list[Obj], name: str, candidate: Candidate, container: str,
                   deployed_at: str, registry: RegistrySpec | None = None) -> list[Obj]:
    """The shadow's Deployment and Service, from the overlay's ``objects`` (whose Deployment
    and Service are both called ``name``): one replica running ``candidate``, named
    ``<name>-shadow``, its pods labelled so that neither production's Service nor its
    Deployment selects them (every label either selects on gets the shadow's value).

    Its model is pulled by digest without a protected environment's checks: a shadow
    answers no client, and the candidate it judges is not promoted yet."""
    stamped = stamp_candidate(objects, candidate, name, container, deployed_at, registry)
    deployment, service = find(stamped, "Deployment", name), find(stamped, "Service", name)
    assert deployment is not None  # stamp_candidate refused otherwise
    if service is None or not service.get("spec", {}).get("selector"):
        raise DeployError(f"the manifests have no Service '{name}' with a selector to put a "
                          "shadow beside")
    deployment, service = copy.deepcopy(deployment), copy.deepcopy(service)
    selector = deployment["spec"]["selector"].get("matchLabels") or {}
    keys = set(selector) | set(service["spec"]["selector"])
    for obj in (deployment, service):
        meta = obj["metadata"]
        meta["name"] = name + SHADOW_SUFFIX
        meta["labels"] = {**_shadowed(meta.get("labels") or {}, keys), ROLE_LABEL: "shadow"}
        for key in ("resourceVersion", "uid", "creationTimestamp"):
            meta.pop(key, None)
    template = deployment["spec"]["template"]
    template["metadata"]["labels"] = {
        **_shadowed(template["metadata"].get("labels") or {}, keys), ROLE_LABEL: "shadow"}
    deployment["spec"]["replicas"] = 1
    deployment["spec"]["selector"] = {"matchLabels": _shadowed(selector, keys)}
    service["spec"]["selector"] = _shadowed(service["spec"]["selector"], keys)
    # Not production's address: the cluster gives the shadow's Service one of its own.
    for key in ("clusterIP", "clusterIPs"):
        service["spec"].pop(key, None)
    return [deployment, service]


def _refuse_without_shadow(env: str, route: Obj, target: KubernetesTarget) -> None:
    filters = [f for rule in route["spec"]["rules"] for f in rule.get("filters", [])]
    shadow = str(filters[0]["requestMirror"]["backendRef"]["name"])
    namespace = route["metadata"]["namespace"]
    if not target.has_service(namespace, shadow):
        raise DeployError(f"no Service '{shadow}' in namespace '{namespace}' to mirror "
                          f"environment '{env}' to; deploy the shadow before turning the "
                          "mirror on")


def start_mirror(config: HarnessConfig, env: str, target: KubernetesTarget,
                 objects: list[Obj] | None = None) -> Obj:
    """Apply ``env``'s HTTPRoute with the mirror to its shadow's Service; the route as the
    API answered. Refused (``DeployError``) before anything changes when that Service does
    not exist."""
    route = route_for(config, env, shadow=True, objects=objects)
    _refuse_without_shadow(env, route, target)
    return target.apply_route(route)


def stop_mirror(config: HarnessConfig, env: str, target: KubernetesTarget,
                objects: list[Obj] | None = None) -> Obj:
    """Apply ``env``'s HTTPRoute without a mirror; the route as the API answered."""
    return target.apply_route(route_for(config, env, objects=objects))


@contextlib.contextmanager
def mirroring(config: HarnessConfig, env: str, target: KubernetesTarget | None = None,
              objects: list[Obj] | None = None) -> Iterator[Obj]:
    """``env``'s predictions mirrored to its shadow for the ``with`` block (the route as
    applied is yielded); afterwards the route has no mirror, also when the block raised or
    turning the mirror on failed half-way."""
    target = target or KubernetesTarget(config)
    # Rendered once: both forms of the route come from the same overlay.
    objects = objects if objects is not None else overlay_objects(config, env)
    route = route_for(config, env, shadow=True, objects=objects)
    _refuse_without_shadow(env, route, target)  # before anything changes
    try:
        yield target.apply_route(route)
    finally:
        stop_mirror(config, env, target, objects)


def remove_shadow(config: HarnessConfig, env: str, target: KubernetesTarget) -> None:
    """Delete ``env``'s shadow Deployment and Service (there may be none)."""
    namespace = config.environment(env).namespace
    if namespace is None:
        raise DeployError(f"environment '{env}' needs 'namespace' for the kubernetes target",
                          key=f"environments.{env}.namespace")
    name = (config.deploy.kubernetes.deployment or config.project) + SHADOW_SUFFIX
    target.delete("Service", namespace, name)
    target.delete("Deployment", namespace, name)


@contextlib.contextmanager
def shadowing(config: HarnessConfig, env: str, candidate: Candidate,
              target: KubernetesTarget | None = None) -> Iterator[KubernetesShadow]:
    """Run ``candidate`` as ``env``'s shadow with predictions mirrored to it for the
    ``with`` block. Refused before anything changes when the config cannot route ``env``;
    a shadow that does not become ready is deleted and never mirrored to. Afterwards the
    mirror is off and the shadow deleted, whatever happened."""
    target = target or KubernetesTarget(config)
    objects = overlay_objects(config, env)
    route = route_for(config, env, shadow=True, objects=objects)
    name = config.deploy.kubernetes.deployment or config.project
    shadow = shadow_objects(objects, name, candidate, config.deploy.kubernetes.container,
                            utc_now(), config.registry)
    namespace = route["metadata"]["namespace"]
    stable = service_backend(objects, name, f"environment '{env}'s overlay")
    try:
        target.apply_objects(shadow)
        target.wait_rollout(env, name + SHADOW_SUFFIX, config.deploy.ready_timeout_s)
        with mirroring(config, env, target, objects) as applied:
            yield KubernetesShadow(
                env=env, route=applied,
                production_url=f"http://{name}.{namespace}.svc:{stable.port}",
                shadow_url=f"http://{name}{SHADOW_SUFFIX}.{namespace}.svc:{stable.port}")
    finally:
        remove_shadow(config, env, target)
