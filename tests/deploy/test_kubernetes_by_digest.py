"""Kubernetes by digest: the Deployment of a published candidate pulls its model by digest
in an init container (the service image stays a separate digest-pinned input), applied
through the API emulator; and the distributed load run's master Job and worker Deployment,
rendered, built with `kubectl kustomize` and valid against the Kubernetes schemas."""

from __future__ import annotations

import contextlib
import io
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.candidate.identity import MODEL_REFERENCE_ENV, Candidate, build_candidate
from harness.cli import build_parser, main
from harness.config import HarnessConfig, RegistrySpec
from harness.deploy.kubernetes import KubernetesTarget
from harness.deploy.manifests import find, kustomize_build, stamp_candidate
from harness.deploy.model_pull import ARTIFACT, INIT_CONTAINER, registry_secret
from tests.support.kube_api import Controller, RunningApiServer
from tests.support.kubernetes import NAMESPACE, image, kube_config, validate
from tests.support.project import EXAMPLE

REFERENCE = "registry.example.com:5000/credit-scoring/model@sha256:" + "d" * 64


@pytest.fixture
def published(model_artifact: Path) -> Candidate:
    return replace(build_candidate(model_artifact, image=image("a")), reference=REFERENCE)


def _pod(objects: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = find(objects, "Deployment", "credit-scoring")
    assert deployment is not None
    return deployment["spec"]["template"]["spec"]


def test_a_published_candidate_is_pulled_by_digest_in_an_init_container(
        published: Candidate) -> None:
    registry = RegistrySpec(host="registry.example.com:5000", repository="credit-scoring/model",
                            username="ci", password_env="REGISTRY_PASSWORD")
    objects = kustomize_build(EXAMPLE / "deploy/k8s/overlays/production")
    stamped = stamp_candidate(objects, published, "credit-scoring", "service", "now", registry)
    validate(stamped)
    pod = _pod(stamped)
    [service] = pod["containers"]
    [puller] = pod["initContainers"]
    assert service["image"] == puller["image"] == published.image  # code: its own digest
    assert puller["name"] == INIT_CONTAINER
    assert puller["command"] == ["harness", "pull", "--reference", REFERENCE, "--out", ARTIFACT]
    assert puller["env"] == [{"name": "REGISTRY_PASSWORD", "valueFrom": {"secretKeyRef": {
        "name": registry_secret("credit-scoring"), "key": "password"}}}]
    assert puller["securityContext"] == service["securityContext"]
    assert {"name": MODEL_REFERENCE_ENV, "value": REFERENCE} in service["env"]
    [mount] = service["volumeMounts"]
    assert mount["readOnly"] and mount["name"] == puller["volumeMounts"][0]["name"]
    assert {"name": mount["name"], "emptyDir": {}} in pod["volumes"]
    # The same candidate stamped twice adds nothing twice.
    again = stamp_candidate(stamped, published, "credit-scoring", "service", "now", registry)
    assert len(_pod(again)["initContainers"]) == 1 and len(_pod(again)["volumes"]) == 1


def test_an_unpublished_candidate_gets_no_puller(model_artifact: Path) -> None:
    objects = kustomize_build(EXAMPLE / "deploy/k8s/overlays/staging")
    candidate = build_candidate(model_artifact, image=image("a"))
    pod = _pod(stamp_candidate(objects, candidate, "credit-scoring", "service", "now"))
    assert "initContainers" not in pod


def test_the_target_applies_the_puller_through_the_official_client(
        tmp_path: Path, published: Candidate) -> None:
    with RunningApiServer() as api:
        config: HarnessConfig = kube_config(tmp_path, api.write_kubeconfig(tmp_path / "kc"))
        with Controller(api.url, NAMESPACE):
            deployed = KubernetesTarget(config, ready_timeout_s=10, poll_s=0.05).deploy(
                "staging", published)
        assert deployed.healthy and deployed.candidate.reference == REFERENCE
        assert api.api is not None
        applied = api.api.applies()[-1].body
    [puller] = applied["spec"]["template"]["spec"]["initContainers"]
    assert puller["command"][-3:] == [REFERENCE, "--out", ARTIFACT]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_the_distributed_load_run_renders_valid_manifests(tmp_path: Path) -> None:
    config = str(EXAMPLE / "harness.yaml")
    service_image = "registry.example.com/credit-scoring@sha256:" + "e" * 64
    code, out, err = _run("--config", config, "load", "render", "--image", service_image,
                          "--namespace", "credit-load", "--workers", "4", "--profile",
                          "nightly", "--target-url", "http://credit-scoring.credit-staging.svc",
                          "--reports-claim", "load-reports", "--out", str(tmp_path))
    assert code == 0, err
    assert out.split() == [str(tmp_path / "load.yaml"), str(tmp_path / "kustomization.yaml")]
    objects = kustomize_build(tmp_path)
    validate(objects)
    assert sorted((o["kind"], o["metadata"]["name"]) for o in objects) == [
        ("Deployment", "credit-scoring-load-worker"), ("Job", "credit-scoring-load-master"),
        ("Service", "credit-scoring-load-master")]
    job = find(objects, "Job", "credit-scoring-load-master")
    workers = find(objects, "Deployment", "credit-scoring-load-worker")
    service = find(objects, "Service", "credit-scoring-load-master")
    [master] = job["spec"]["template"]["spec"]["containers"]
    [worker] = workers["spec"]["template"]["spec"]["containers"]
    assert workers["spec"]["replicas"] == 4
    assert master["image"] == worker["image"] == service_image
    assert service["spec"]["selector"] == job["spec"]["template"]["metadata"]["labels"]
    # Both run the real CLI: its parser accepts their arguments.
    parser = build_parser()
    check = parser.parse_args(master["command"][1:])
    assert (check.profile, check.remote_workers, check.master_bind) == ("nightly", 4,
                                                                        "0.0.0.0:5557")
    assert parser.parse_args(worker["command"][1:]).master == "credit-scoring-load-master:5557"
    assert {"name": "reports", "persistentVolumeClaim": {"claimName": "load-reports"}} in \
        job["spec"]["template"]["spec"]["volumes"]


@pytest.mark.parametrize(("argv", "message"), [
    (("--image", "credit-scoring:latest", "--workers", "2"), "is not pinned by digest"),
    (("--image", "x@sha256:" + "1" * 64, "--workers", "2", "--profile", "pr"),
     "profile 'pr' does not run the load check"),
    (("--image", "x@sha256:" + "1" * 64, "--workers", "0"), "at least one worker"),
])
def test_bad_load_renders_are_refused(tmp_path: Path, argv: tuple[str, ...],
                                      message: str) -> None:
    code, _, err = _run("--config", str(EXAMPLE / "harness.yaml"), "load", "render",
                        "--namespace", "n", "--out", str(tmp_path), *argv)
    assert code == 2 and message in err
    assert not list(tmp_path.iterdir())


def test_check_takes_remote_workers_and_refuses_a_bad_master_bind(tmp_path: Path) -> None:
    code, _, err = _run("--config", str(EXAMPLE / "harness.yaml"), "check", "--profile",
                        "release", "--remote-workers", "2", "--master-bind", "nowhere")
    assert code == 2 and "--remote-workers/--master-bind" in err
