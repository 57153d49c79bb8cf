"""A shadow's mirror on the kubernetes target, driven through the official client against the
Kubernetes API emulator over real HTTP (tests/kube_api.py), the HTTPRoute read back from the
emulator at each stage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp.web
import kmock
import pytest
from kubernetes import client as k8s

from harness.candidate.identity import build_candidate
from harness.config import HarnessConfig
from harness.deploy.kubernetes import KubernetesTarget
from harness.deploy.kubernetes_shadow import (
    mirroring,
    shadow_objects,
    shadowing,
    start_mirror,
    stop_mirror,
)
from harness.deploy.manifests import kustomize_build
from harness.errors import DeployError
from tests.support import kube_api
from tests.support.kube_api import Controller, RunningApiServer
from tests.support.kubernetes import gateway_config as on_gateway
from tests.support.kubernetes import validate
from tests.support.project import EXAMPLE

NAMESPACE = "credit-production"
ROUTE = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/credit-scoring"


@pytest.fixture
def api() -> Iterator[RunningApiServer]:
    with RunningApiServer() as server:
        assert server.api is not None
        # The Gateway API's CRDs, as a cluster that serves them lists them.
        server.api.resources["gateway.networking.k8s.io/v1/httproutes"] = kmock.ResourceInfo(
            kind="HTTPRoute", namespaced=True)
        yield server


@pytest.fixture
def config(tmp_path: Path, api: RunningApiServer) -> HarnessConfig:
    return gateway_config(tmp_path, api)


def gateway_config(tmp_path: Path, api: RunningApiServer) -> HarnessConfig:
    return on_gateway(tmp_path, api.write_kubeconfig(tmp_path / "kubeconfig"),
                      mirror_percent=40)


def target(config: HarnessConfig) -> KubernetesTarget:
    return KubernetesTarget(config, ready_timeout_s=10, poll_s=0.05)


def route_in(api: RunningApiServer) -> dict[str, Any] | None:
    """The HTTPRoute as the emulator holds it, read over HTTP with the official client."""
    custom = k8s.CustomObjectsApi(k8s.ApiClient(k8s.Configuration(host=api.url)))
    try:
        route: dict[str, Any] = custom.get_namespaced_custom_object(
            "gateway.networking.k8s.io", "v1", NAMESPACE, "httproutes", "credit-scoring")
    except k8s.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return route


def mirrors(route: dict[str, Any] | None) -> list[dict[str, Any]]:
    assert route is not None
    return [f["requestMirror"] for rule in route["spec"]["rules"]
            for f in rule.get("filters", [])]


def backends(route: dict[str, Any] | None) -> set[str]:
    assert route is not None
    return {ref["name"] for rule in route["spec"]["rules"] for ref in rule["backendRefs"]}


def shadow_service(api: RunningApiServer) -> None:
    core = k8s.CoreV1Api(k8s.ApiClient(k8s.Configuration(host=api.url)))
    core.create_namespaced_service(NAMESPACE, {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "credit-scoring-shadow", "namespace": NAMESPACE},
        "spec": {"ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})


def test_the_mirror_is_on_for_the_window_and_off_after_it(
        config: HarnessConfig, api: RunningApiServer) -> None:
    shadow_service(api)
    with mirroring(config, "production", target(config)) as applied:
        during = route_in(api)
        assert during == applied
        assert mirrors(during) == [{"backendRef": {"name": "credit-scoring-shadow", "port": 80},
                                    "percent": 40}]
        assert backends(during) == {"credit-scoring"}
        assert during is not None and during["spec"]["parentRefs"][0]["name"] == "public"
    after = route_in(api)
    assert mirrors(after) == [] and backends(after) == {"credit-scoring"}
    assert after is not None and after["spec"]["hostnames"] == ["credit.example.com"]

    assert api.api is not None
    applies = [r for r in api.api.applies() if r.path == ROUTE]
    assert len(applies) == 2
    for request in applies:
        assert request.method == "PATCH"
        assert request.params == {"fieldManager": "harness", "force": "true"}


def test_the_mirror_is_removed_when_the_window_fails(
        config: HarnessConfig, api: RunningApiServer) -> None:
    shadow_service(api)
    with pytest.raises(RuntimeError, match="the window broke"), \
            mirroring(config, "production", target(config)):
        assert len(mirrors(route_in(api))) == 1
        raise RuntimeError("the window broke")
    assert mirrors(route_in(api)) == []


def test_no_mirror_without_the_shadows_service_and_nothing_changes(
        config: HarnessConfig, api: RunningApiServer) -> None:
    with pytest.raises(DeployError, match="no Service 'credit-scoring-shadow' in namespace "
                       "'credit-production'"), mirroring(config, "production", target(config)):
        pytest.fail("the window ran without a shadow")
    assert route_in(api) is None
    with pytest.raises(DeployError, match="deploy the shadow before"):
        start_mirror(config, "production", target(config))
    assert route_in(api) is None


def test_start_and_stop_are_separate_steps_too(
        config: HarnessConfig, api: RunningApiServer) -> None:
    shadow_service(api)
    kube = target(config)
    start_mirror(config, "production", kube)
    assert len(mirrors(route_in(api))) == 1
    assert mirrors(kube.read_route(NAMESPACE, "credit-scoring")) == mirrors(route_in(api))
    stop_mirror(config, "production", kube)
    stop_mirror(config, "production", kube)  # again: nothing left to remove, no error
    assert mirrors(route_in(api)) == []


class WithoutGatewayApi(kube_api.ApiServer):
    """A cluster whose API serves no gateway.networking.k8s.io group (no CRDs installed)."""

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        if request.url.path.startswith("/apis/gateway.networking.k8s.io/"):
            return aiohttp.web.json_response(
                {"kind": "Status", "status": "Failure", "code": 404, "reason": "NotFound",
                 "message": "the server could not find the requested resource"}, status=404)
        return await super()._handle(request)


def test_a_cluster_without_the_gateway_api_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_api, "ApiServer", WithoutGatewayApi)
    with kube_api.RunningApiServer() as bare:
        config = gateway_config(tmp_path, bare)
        shadow_service(bare)
        with pytest.raises(DeployError, match="404 the server could not find the requested "
                           "resource; the cluster must serve the Gateway API"):
            start_mirror(config, "production", target(config))


def test_a_deploy_applies_the_route_without_a_mirror(
        config: HarnessConfig, api: RunningApiServer, model_artifact: Path) -> None:
    shadow_service(api)
    start_mirror(config, "production", target(config))  # a killed shadow left it on
    candidate = build_candidate(
        model_artifact, image="registry.example.com/credit-scoring@sha256:" + "a" * 64,
        code_revision="1" * 40)
    with Controller(api.url, NAMESPACE):
        deployed = target(config).deploy("production", candidate)
    assert deployed.healthy
    route = route_in(api)
    assert mirrors(route) == [] and backends(route) == {"credit-scoring"}


def image(tag: str) -> str:
    return f"registry.example.com/credit-scoring@sha256:{tag * 64}"


def read(api: RunningApiServer, kind: str, name: str) -> dict[str, Any] | None:
    client = k8s.ApiClient(k8s.Configuration(host=api.url))
    method = (k8s.AppsV1Api(client).read_namespaced_deployment if kind == "Deployment"
              else k8s.CoreV1Api(client).read_namespaced_service)
    try:
        return json.loads(method(name, NAMESPACE, _preload_content=False).data)
    except k8s.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_the_shadows_pods_are_selected_by_its_service_and_by_nothing_of_productions(
        model_artifact: Path) -> None:
    objects = kustomize_build(EXAMPLE / "deploy/k8s/overlays/production")
    candidate = build_candidate(model_artifact, image=image("b"), code_revision="2" * 40)
    deployment, service = shadow_objects(objects, "credit-scoring", candidate, "service",
                                         "2026-12-07T16:00:00Z")
    assert (deployment["kind"], service["kind"]) == ("Deployment", "Service")
    assert deployment["metadata"]["name"] == service["metadata"]["name"] == \
        "credit-scoring-shadow"
    assert deployment["metadata"]["namespace"] == NAMESPACE and deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image("b")
    pods = deployment["spec"]["template"]["metadata"]["labels"]
    assert selects(service["spec"]["selector"], pods)
    assert selects(deployment["spec"]["selector"]["matchLabels"], pods)
    production = {o["kind"]: o for o in objects}
    assert production["Service"]["spec"]["selector"]  # the overlay selects on labels
    assert not selects(production["Service"]["spec"]["selector"], pods)
    assert not selects(production["Deployment"]["spec"]["selector"]["matchLabels"], pods)
    assert service["spec"]["ports"] == production["Service"]["spec"]["ports"]
    validate([deployment, service])


def test_a_shadow_runs_beside_production_mirrored_and_is_gone_afterwards(
        config: HarnessConfig, api: RunningApiServer, model_artifact: Path) -> None:
    production = build_candidate(model_artifact, image=image("a"), code_revision="1" * 40)
    candidate = build_candidate(model_artifact, image=image("b"), code_revision="2" * 40)
    with Controller(api.url, NAMESPACE):
        target(config).deploy("production", production)
        before = read(api, "Deployment", "credit-scoring")
        with shadowing(config, "production", candidate, target(config)) as shadow:
            deployment = read(api, "Deployment", "credit-scoring-shadow")
            assert deployment is not None
            assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image("b")
            assert (deployment.get("status") or {}).get("availableReplicas") == 1
            assert read(api, "Service", "credit-scoring-shadow") is not None
            assert mirrors(route_in(api)) == mirrors(shadow.route) == [
                {"backendRef": {"name": "credit-scoring-shadow", "port": 80}, "percent": 40}]
            assert shadow.production_url == "http://credit-scoring.credit-production.svc:80"
            assert shadow.shadow_url == "http://credit-scoring-shadow.credit-production.svc:80"
    assert mirrors(route_in(api)) == []
    assert read(api, "Deployment", "credit-scoring-shadow") is None
    assert read(api, "Service", "credit-scoring-shadow") is None
    # Production was never touched: same generation, same candidate.
    after = read(api, "Deployment", "credit-scoring")
    assert before is not None and after is not None
    assert after["metadata"]["generation"] == before["metadata"]["generation"]
    assert after["spec"]["template"] == before["spec"]["template"]


def test_a_shadow_that_is_not_ready_is_deleted_and_never_mirrored_to(
        config: HarnessConfig, api: RunningApiServer, model_artifact: Path) -> None:
    candidate = build_candidate(model_artifact, image=image("b"), code_revision="2" * 40)

    def outcome(deployment: dict[str, Any]) -> str:
        return "deadline" if deployment["metadata"]["name"].endswith("-shadow") else "done"

    with Controller(api.url, NAMESPACE, outcome=outcome), \
            pytest.raises(DeployError, match='"credit-scoring-shadow" exceeded its progress'), \
            shadowing(config, "production", candidate, target(config)):
        pytest.fail("the window ran with a shadow that was not ready")
    assert route_in(api) is None
    assert read(api, "Deployment", "credit-scoring-shadow") is None
    assert read(api, "Service", "credit-scoring-shadow") is None


def test_a_label_the_shadows_value_would_make_too_long_is_named(model_artifact: Path) -> None:
    objects = kustomize_build(EXAMPLE / "deploy/k8s/overlays/production")
    service = next(o for o in objects if o["kind"] == "Service")
    service["spec"]["selector"]["app.kubernetes.io/instance"] = "x" * 60
    candidate = build_candidate(model_artifact, image=image("b"), code_revision="2" * 40)
    with pytest.raises(DeployError, match="label app.kubernetes.io/instance .* longer than "
                       r"Kubernetes allows \(63\)"):
        shadow_objects(objects, "credit-scoring", candidate, "service", "2026-12-07T16:00:00Z")
