"""An environment's Gateway API ``HTTPRoute`` on the kubernetes target: it attaches to the
environment's Gateway and sends every request to the environment's Service; during a shadow
window its ``/predict`` rule carries a ``RequestMirror`` filter copying those requests to the
shadow's Service (the local target's nginx mirror, harness/deploy/router.py, does the same).
During a canary step its backendRefs are weighted instead: a share of every request to
the canary's Service, the rest to the stable one.

``http_route`` and ``weighted_route`` build the object from plain values (no cluster, no
files); ``route_for`` fills them in from the config and the environment's kustomize
overlay (the Service's name and port), and ``write_route`` writes it beside the other
rendered manifests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.config import GatewaySpec, HarnessConfig
from harness.deploy.manifests import find, kustomize_build
from harness.errors import ConfigError, DeployError

API_VERSION = "gateway.networking.k8s.io/v1"
GROUP, VERSION, PLURAL = "gateway.networking.k8s.io", "v1", "httproutes"
# The path the local router mirrors too: only predictions are worth a shadow's answer.
MIRRORED_PATH = "/predict"
SHADOW_SUFFIX = "-shadow"
CANARY_SUFFIX = "-canary"
# A share becomes integer weights out of this, reduced (0.1: 1 and 9): a tenth of a
# percent is as fine as a canary step needs, and the Gateway API's weights are integers.
_WEIGHT_SCALE = 1000

Obj = dict[str, Any]


@dataclass(frozen=True)
class Backend:
    """A Service in the route's namespace, and the port the route sends to."""

    name: str
    port: int


def http_route(name: str, namespace: str, gateway: GatewaySpec, stable: Backend,
               mirror: Backend | None = None, percent: int = 100,
               labels: dict[str, str] | None = None) -> Obj:
    """The HTTPRoute ``name`` in ``namespace``: attached to ``gateway``, every request to
    ``stable``; with ``mirror``, ``percent`` of ``/predict`` requests also copied there.

    At 100 the filter leaves ``percent`` out: the Gateway API mirrors every request when it
    is absent, and a cluster whose CRDs predate v1.3 (where ``percent`` became Standard)
    then accepts the route too."""
    if not 1 <= percent <= 100:
        raise ConfigError(f"a mirror's percent is between 1 and 100, not {percent}",
                          key="release.shadow.mirror_percent")
    def to_stable() -> list[Obj]:
        return [{"name": stable.name, "port": stable.port}]

    rules: list[Obj] = []
    if mirror is not None:
        copy: Obj = {"backendRef": {"name": mirror.name, "port": mirror.port}}
        if percent < 100:
            copy["percent"] = percent
        rules.append({
            "matches": [{"path": {"type": "PathPrefix", "value": MIRRORED_PATH}}],
            "filters": [{"type": "RequestMirror", "requestMirror": copy}],
            "backendRefs": to_stable(),
        })
    rules.append({"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                  "backendRefs": to_stable()})
    return _route(name, namespace, gateway, rules, labels)


def canary_weights(share: float) -> tuple[int, int]:
    """The stable and canary backendRefs' weights for a step sending ``share`` (0 < share
    <= 1) of the requests to the canary: integers in the share's ratio, to a tenth of a
    percent, reduced (0.1 gives (9, 1); 1 gives (0, 1): the stable Service stays named
    but gets nothing)."""
    if not (isinstance(share, (int, float)) and 0 < share <= 1):
        raise ConfigError(f"a canary's share of the traffic is above 0 and at most 1 "
                          f"(0.1 for 10 %), not {share!r}", key="canary share")
    canary = round(share * _WEIGHT_SCALE)
    if canary == 0:
        raise ConfigError(f"a canary's share {share!r} rounds to no traffic at all; give it "
                          f"at least {1 / _WEIGHT_SCALE:g}", key="canary share")
    stable = _WEIGHT_SCALE - canary
    common = math.gcd(stable, canary)
    return stable // common, canary // common


def weighted_route(name: str, namespace: str, gateway: GatewaySpec, stable: Backend,
                   canary: Backend, share: float,
                   labels: dict[str, str] | None = None) -> Obj:
    """The HTTPRoute ``name`` in ``namespace`` for a canary step: attached to ``gateway``,
    ``share`` of every request to ``canary`` and the rest to ``stable`` (weighted
    backendRefs, split per request by the Gateway). ``ConfigError`` for a share outside
    (0, 1]."""
    stable_weight, canary_weight = canary_weights(share)
    rules = [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
              "backendRefs": [
                  {"name": stable.name, "port": stable.port, "weight": stable_weight},
                  {"name": canary.name, "port": canary.port, "weight": canary_weight}]}]
    return _route(name, namespace, gateway, rules, labels)


def _route(name: str, namespace: str, gateway: GatewaySpec, rules: list[Obj],
           labels: dict[str, str] | None) -> Obj:
    parent: Obj = {"group": GROUP, "kind": "Gateway", "name": gateway.name}
    if gateway.namespace is not None:
        parent["namespace"] = gateway.namespace
    if gateway.section_name is not None:
        parent["sectionName"] = gateway.section_name
    spec: Obj = {"parentRefs": [parent]}
    if gateway.hostnames:
        spec["hostnames"] = list(gateway.hostnames)
    spec["rules"] = rules
    metadata: Obj = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    return {"apiVersion": API_VERSION, "kind": "HTTPRoute", "metadata": metadata, "spec": spec}


def service_backend(objects: list[Obj], service: str, where: str) -> Backend:
    """The Service ``service`` among the rendered ``objects``, and its first port."""
    found = find(objects, "Service", service)
    if found is None:
        raise DeployError(f"{where} renders no Service named '{service}', which the HTTPRoute "
                          "sends to (set deploy.kubernetes.deployment to the name the Deployment "
                          "and its Service share)")
    ports = found.get("spec", {}).get("ports") or []
    if not ports or not isinstance(ports[0].get("port"), int):
        raise DeployError(f"Service '{service}' from {where} has no port for the HTTPRoute")
    return Backend(service, ports[0]["port"])


def _routed(config: HarnessConfig, env: str) -> tuple[str, GatewaySpec, Path]:
    """``env``'s namespace, Gateway and overlay; ``ConfigError`` naming what is missing."""
    spec = config.environment(env)
    if spec.gateway is None or spec.namespace is None or spec.kustomize is None:
        raise ConfigError(f"{config.source}: environment '{env}' needs 'namespace', "
                          "'kustomize' and 'gateway' (name, namespace, hostnames) for its "
                          "HTTPRoute", key=f"environments.{env}.gateway")
    return spec.namespace, spec.gateway, config.resolve(spec.kustomize)


def overlay_objects(config: HarnessConfig, env: str) -> list[Obj]:
    """What ``env``'s kustomize overlay renders, once the config can route ``env``."""
    return kustomize_build(_routed(config, env)[2])


def route_for(config: HarnessConfig, env: str, shadow: bool = False,
              objects: list[Obj] | None = None, canary_share: float | None = None) -> Obj:
    """``env``'s HTTPRoute as the config and its overlay describe it; with ``shadow``, its
    predictions mirrored to the shadow's Service (``<service>-shadow``, on the same port),
    at ``release.shadow.mirror_percent``; with ``canary_share``, that share of its requests
    sent to the canary's Service (``<service>-canary``, on the same port) instead. A shadow
    and a canary are not rendered together. ``objects`` are the overlay's, when already
    built."""
    if shadow and canary_share is not None:
        raise ConfigError("a route either mirrors to a shadow or splits to a canary, not "
                          "both: render one", key="canary share")
    namespace, gateway, overlay = _routed(config, env)
    if objects is None:
        objects = kustomize_build(overlay)
    name = config.deploy.kubernetes.deployment or config.project
    stable = service_backend(objects, name, str(overlay))
    labels = {"app.kubernetes.io/managed-by": "harness"}
    if canary_share is not None:
        return weighted_route(name, namespace, gateway, stable,
                              Backend(name + CANARY_SUFFIX, stable.port), canary_share, labels)
    mirror = Backend(name + SHADOW_SUFFIX, stable.port) if shadow else None
    return http_route(name, namespace, gateway, stable, mirror,
                      config.release.shadow.mirror_percent, labels=labels)


def write_route(config: HarnessConfig, env: str, out: Path, shadow: bool = False,
                canary_share: float | None = None) -> Path:
    """Write ``route_for(config, env, shadow, canary_share=...)`` to
    ``out/httproute-<env>[-shadow|-canary].yaml``."""
    import yaml

    route = route_for(config, env, shadow, canary_share=canary_share)
    out.mkdir(parents=True, exist_ok=True)
    suffix = SHADOW_SUFFIX if shadow else CANARY_SUFFIX if canary_share is not None else ""
    path = out / f"httproute-{env}{suffix}.yaml"
    path.write_text(yaml.safe_dump(route, sort_keys=False), encoding="utf-8")
    return path
