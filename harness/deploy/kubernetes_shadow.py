"""A shadow's mirror on the kubernetes target: the environment's HTTPRoute gets a
``RequestMirror`` filter copying ``/predict`` requests to the shadow's Service for the
window, and loses it afterwards, whatever happened (harness/deploy/httproute.py renders
both forms; the target applies them server-side, so the second removes the filter).

The mirror is turned on only when the shadow's Service (``<service>-shadow``) exists: a
mirror to a missing backend is a route the Gateway may reject, and production's traffic
goes through that route.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from harness.config import HarnessConfig
from harness.deploy.httproute import overlay_objects, route_for
from harness.deploy.kubernetes import KubernetesTarget
from harness.errors import DeployError

Obj = dict[str, Any]


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
def mirroring(config: HarnessConfig, env: str,
              target: KubernetesTarget | None = None) -> Iterator[Obj]:
    """``env``'s predictions mirrored to its shadow for the ``with`` block (the route as
    applied is yielded); afterwards the route has no mirror, also when the block raised or
    turning the mirror on failed half-way."""
    target = target or KubernetesTarget(config)
    # Rendered once: both forms of the route come from the same overlay.
    objects = overlay_objects(config, env)
    route = route_for(config, env, shadow=True, objects=objects)
    _refuse_without_shadow(env, route, target)  # before anything changes
    try:
        yield target.apply_route(route)
    finally:
        stop_mirror(config, env, target, objects)
