"""An environment's Gateway API ``HTTPRoute`` on the kubernetes target: it attaches to the
environment's Gateway and sends every request to the environment's Service; during a shadow
window its ``/predict`` rule carries a ``RequestMirror`` filter copying those requests to the
shadow's Service (the local target's nginx mirror, harness/deploy/router.py, does the same).

``http_route`` builds the object from plain values (no cluster, no files); ``route_for``
fills them in from the config and the environment's kustomize overlay (the Service's name
and port), and ``write_route`` writes it beside the other rendered manifests.
"""

from __future__ import annotations

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
    parent: Obj = {"group": GROUP, "kind": "Gateway", "name": gateway.name}
    if gateway.namespace is not None:
        parent["namespace"] = gateway.namespace
    if gateway.section_name is not None:
        parent["sectionName"] = gateway.section_name
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
              objects: list[Obj] | None = None) -> Obj:
    """``env``'s HTTPRoute as the config and its overlay describe it; with ``shadow``, its
    predictions mirrored to the shadow's Service (``<service>-shadow``, on the same port),
    at ``release.shadow.mirror_percent``. ``objects`` are the overlay's, when already built."""
    namespace, gateway, overlay = _routed(config, env)
    if objects is None:
        objects = kustomize_build(overlay)
    name = config.deploy.kubernetes.deployment or config.project
    stable = service_backend(objects, name, str(overlay))
    mirror = Backend(name + SHADOW_SUFFIX, stable.port) if shadow else None
    return http_route(name, namespace, gateway, stable, mirror,
                      config.release.shadow.mirror_percent,
                      labels={"app.kubernetes.io/managed-by": "harness"})


def write_route(config: HarnessConfig, env: str, out: Path, shadow: bool = False) -> Path:
    """Write ``route_for(config, env, shadow)`` to ``out/httproute-<env>.yaml``."""
    import yaml

    route = route_for(config, env, shadow)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"httproute-{env}{SHADOW_SUFFIX if shadow else ''}.yaml"
    path.write_text(yaml.safe_dump(route, sort_keys=False), encoding="utf-8")
    return path
