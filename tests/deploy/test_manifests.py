"""The Kubernetes manifests: built by ``kubectl kustomize``, valid against the Kubernetes
schemas (kubernetes-validate, offline), and saying what each environment needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from harness.candidate.identity import build_candidate
from harness.deploy.manifests import (
    CANDIDATE_ANNOTATION,
    find,
    kustomize_build,
    stamp_candidate,
)
from harness.errors import DeployError
from tests.support.kubernetes import validate
from tests.support.project import EXAMPLE

OVERLAYS = EXAMPLE / "deploy/k8s/overlays"
EXPECTED = {"staging": 1, "production": 3}


@pytest.fixture(scope="module", params=sorted(EXPECTED))
def built(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, kustomize_build(OVERLAYS / request.param)


def test_overlays_build_and_validate_against_the_kubernetes_schemas(
    built: tuple[str, list[dict[str, Any]]],
) -> None:
    env, objects = built
    assert sorted(o["kind"] for o in objects) == [
        "Deployment", "Namespace", "Service", "ServiceAccount"]
    validate(objects)
    namespace = f"credit-{env}"
    assert find(objects, "Namespace", namespace) is not None
    assert {o["metadata"]["namespace"] for o in objects if o["kind"] != "Namespace"} == {namespace}


def test_the_deployment_probes_the_service_health_endpoints(
    built: tuple[str, list[dict[str, Any]]],
) -> None:
    env, objects = built
    deployment = find(objects, "Deployment", "credit-scoring")
    assert deployment is not None
    assert deployment["spec"]["replicas"] == EXPECTED[env]
    pod = deployment["spec"]["template"]
    (container,) = pod["spec"]["containers"]
    port = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert port == {"http": 8000}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    resources = container["resources"]
    assert set(resources) == {"requests", "limits"}
    assert set(resources["requests"]) == set(resources["limits"]) == {"cpu", "memory"}
    # The Service reaches exactly these pods.
    service = find(objects, "Service", "credit-scoring")
    assert service is not None
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()


def test_production_gets_more_than_staging() -> None:
    def requests(env: str) -> dict[str, str]:
        deployment = find(kustomize_build(OVERLAYS / env), "Deployment", "credit-scoring")
        assert deployment is not None
        return deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]

    assert requests("staging") != requests("production")


def test_the_stamped_deployment_is_what_gets_applied_and_still_valid(
    built: tuple[str, list[dict[str, Any]]], model_artifact: Path
) -> None:
    _, objects = built
    image = "registry.example.com/credit-scoring@sha256:" + "c" * 64
    candidate = build_candidate(model_artifact, image=image)
    stamped = stamp_candidate(objects, candidate, "credit-scoring", "service", "now")
    validate(stamped)
    deployment = find(stamped, "Deployment", "credit-scoring")
    assert deployment is not None
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == image
    assert CANDIDATE_ANNOTATION in deployment["spec"]["template"]["metadata"]["annotations"]
    assert objects != stamped, "stamping copies; the built objects are unchanged"


def test_a_broken_overlay_is_named(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(DeployError, match=f"kubectl kustomize {tmp_path} failed"):
        kustomize_build(tmp_path)
    with pytest.raises(DeployError, match="overlay .* does not exist"):
        kustomize_build(tmp_path / "none")


def test_an_invalid_manifest_is_caught_by_the_schemas() -> None:
    (deployment,) = [o for o in kustomize_build(OVERLAYS / "staging") if o["kind"] == "Deployment"]
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate([deployment])
