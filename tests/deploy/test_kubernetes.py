"""The ``kubernetes`` deploy target against a Kubernetes API emulator over real HTTP.

The official client does the talking; ``tests/kube_api.py`` serves the API
(kmock) and plays the Deployment controller, since an emulator runs none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.candidate.identity import Candidate, build_candidate
from harness.config import HarnessConfig, load_config
from harness.deploy import DeployTarget, get_target
from harness.deploy.kubernetes import KubernetesTarget
from harness.deploy.manifests import CANDIDATE_ID_ANNOTATION
from harness.deploy.rollout import RolloutStatus, rollout_status
from harness.errors import DeployError, TargetUnreachable
from tests.support.kube_api import Controller, RunningApiServer
from tests.support.kubernetes import NAMESPACE, image, kube_config
from tests.support.service_process import free_port

DEPLOYMENTS = "/apis/apps/v1/namespaces/credit-staging/deployments/credit-scoring"


@pytest.fixture
def api() -> Iterator[RunningApiServer]:
    with RunningApiServer() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, api: RunningApiServer) -> HarnessConfig:
    return kube_config(tmp_path, api.write_kubeconfig(tmp_path / "kubeconfig"))


def target(config: HarnessConfig, ready_timeout_s: float = 10) -> KubernetesTarget:
    return KubernetesTarget(config, ready_timeout_s=ready_timeout_s, poll_s=0.05)


@pytest.fixture
def candidates(model_artifact: Path) -> tuple[Candidate, Candidate]:
    return (build_candidate(model_artifact, image=image("a"), code_revision="1" * 40),
            build_candidate(model_artifact, image=image("b"), code_revision="2" * 40))


def fails_for(tag: str, how: str) -> Any:
    """A controller outcome: ``how`` for pods running ``image(tag)``, done otherwise."""
    def outcome(deployment: dict[str, Any]) -> str:
        containers = deployment["spec"]["template"]["spec"]["containers"]
        return how if containers[0]["image"] == image(tag) else "done"
    return outcome


def test_the_kubernetes_target_is_found_by_name(config: HarnessConfig) -> None:
    found = get_target(config)
    assert isinstance(found, KubernetesTarget) and isinstance(found, DeployTarget)
    assert found.status("staging") is None


def test_deploy_applies_server_side_through_the_official_client(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    first, _ = candidates
    with Controller(api.url, NAMESPACE):
        deployed = target(config).deploy("staging", first)
    assert deployed.healthy and deployed.revision == 1 and deployed.candidate == first
    assert deployed.url == "http://credit-scoring.credit-staging.svc"

    assert api.api is not None
    applies = api.api.applies()
    assert [r.path for r in applies] == [
        "/api/v1/namespaces/credit-staging",
        "/api/v1/namespaces/credit-staging/serviceaccounts/credit-scoring",
        "/api/v1/namespaces/credit-staging/services/credit-scoring",
        DEPLOYMENTS,
    ]
    for request in applies:
        assert request.method == "PATCH"
        assert request.params == {"fieldManager": "harness", "force": "true"}
        assert request.user_agent.startswith("OpenAPI-Generator/") and "python" in request.user_agent

    applied = applies[-1].body
    container = applied["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == first.image
    assert applied["metadata"]["annotations"][CANDIDATE_ID_ANNOTATION] == first.id
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


def test_status_reads_what_the_cluster_runs(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    first, _ = candidates
    with Controller(api.url, NAMESPACE):
        target(config).deploy("staging", first)
    status = get_target(config).status("staging")
    assert status is not None and status.healthy
    assert (status.candidate, status.revision, status.image) == (first, 1, first.image)
    assert status.artifact_sha256 == first.artifact_sha256
    record = json.loads(json.dumps(status.to_dict()))
    assert record["candidate"]["id"] == first.id and record["revision"] == 1
    assert get_target(config).status("production") is None


def test_a_rollout_that_does_not_finish_in_time_fails(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    first, _ = candidates
    with Controller(api.url, NAMESPACE, outcome=fails_for("a", "stuck")), \
            pytest.raises(DeployError) as excinfo:
        target(config, ready_timeout_s=1).deploy("staging", first)
    assert "rollout not finished after 1s" in str(excinfo.value)
    assert "0 out of 1 new replicas have been updated" in str(excinfo.value)
    assert "nothing ran before, so nothing was rolled back" in str(excinfo.value)
    status = get_target(config).status("staging")
    assert status is not None and not status.healthy


def test_a_deadline_exceeded_rollout_fails_and_rolls_back(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    first, second = candidates
    with Controller(api.url, NAMESPACE, outcome=fails_for("b", "deadline")):
        target(config).deploy("staging", first)
        with pytest.raises(DeployError) as excinfo:
            target(config).deploy("staging", second)
    message = str(excinfo.value)
    assert 'deployment "credit-scoring" exceeded its progress deadline' in message
    assert f"rolled back to revision 3 (candidate {first.id})" in message
    status = get_target(config).status("staging")
    assert status is not None and status.healthy
    assert (status.candidate, status.revision) == (first, 3)


def test_rollback_restores_the_previous_revision_as_kubectl_rollout_undo(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    first, second = candidates
    kube = target(config)
    with Controller(api.url, NAMESPACE) as controller:
        kube.deploy("staging", first)
        assert kube.deploy("staging", second).revision == 2
        rolled_back = kube.rollback("staging")
        assert (rolled_back.candidate, rolled_back.revision) == (first, 3)
        # Undo again: back to the second, as `kubectl rollout undo` twice does.
        assert kube.rollback("staging").candidate == second
        replica_sets = controller.replica_sets()

    assert api.api is not None
    patches = [r for r in api.api.recorded
               if r.method == "PATCH" and r.content_type == "application/json-patch+json"]
    assert len(patches) == 2 and all(r.path == DEPLOYMENTS for r in patches)
    template = patches[0].body[0]["value"]
    assert [op["path"] for op in patches[0].body] == ["/spec/template", "/metadata/annotations"]
    assert "pod-template-hash" not in template["metadata"]["labels"]
    assert template["spec"]["containers"][0]["image"] == first.image
    # Two templates, so two ReplicaSets: a rollback reuses the old one under a new revision.
    revisions = sorted(int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
                       for rs in replica_sets)
    assert revisions == [3, 4]


def test_rollback_without_history_is_refused(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    with pytest.raises(DeployError, match="no Deployment 'credit-scoring' in namespace"):
        target(config).rollback("staging")
    with Controller(api.url, NAMESPACE):
        target(config).deploy("staging", candidates[0])
        with pytest.raises(DeployError, match="no rollout history found"):
            target(config).rollback("staging")


def test_stop_scales_to_zero(
    config: HarnessConfig, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    with Controller(api.url, NAMESPACE):
        target(config).deploy("staging", candidates[0])
    target(config).stop("staging")
    assert api.api is not None
    scale = [r for r in api.api.recorded if r.path.endswith("/scale")]
    assert len(scale) == 1 and scale[0].body == {"spec": {"replicas": 0}}


def test_a_candidate_without_an_image_is_refused_before_anything_is_applied(
    config: HarnessConfig, api: RunningApiServer, model_artifact: Path
) -> None:
    with pytest.raises(DeployError, match="has no container image"):
        target(config).deploy("staging", build_candidate(model_artifact))
    assert api.api is not None and api.api.recorded == []


def test_an_unreachable_api_server_is_named(tmp_path: Path, candidates: Any) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": f"http://127.0.0.1:{free_port()}"}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
    }))
    with pytest.raises(TargetUnreachable, match=r"Kubernetes API http://127\.0\.0\.1:\d+ unreachable"):
        target(kube_config(tmp_path, kubeconfig)).status("staging")


def test_a_missing_kubeconfig_is_named(tmp_path: Path) -> None:
    config = kube_config(tmp_path, tmp_path / "nowhere")
    with pytest.raises(DeployError, match="kubeconfig .*nowhere .*not found"):
        target(config).status("staging")


def _deployment(**status: Any) -> dict[str, Any]:
    """A Deployment at generation 2 that wants 3 replicas, with ``status``."""
    return {"metadata": {"name": "web", "generation": 2},
            "spec": {"replicas": 3}, "status": status}


@pytest.mark.parametrize(("deployment", "expected"), [
    (_deployment(observedGeneration=1, replicas=3, updatedReplicas=3, availableReplicas=3),
     RolloutStatus(False, False, "Waiting for deployment spec update to be observed...")),
    (_deployment(observedGeneration=2, conditions=[
        {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]),
     RolloutStatus(False, True, 'deployment "web" exceeded its progress deadline')),
    (_deployment(observedGeneration=2, replicas=3, updatedReplicas=1),
     RolloutStatus(False, False, 'Waiting for deployment "web" rollout to finish: '
                   "1 out of 3 new replicas have been updated...")),
    (_deployment(observedGeneration=2, replicas=4, updatedReplicas=3, availableReplicas=3),
     RolloutStatus(False, False, 'Waiting for deployment "web" rollout to finish: '
                   "1 old replicas are pending termination...")),
    (_deployment(observedGeneration=2, replicas=3, updatedReplicas=3, availableReplicas=2),
     RolloutStatus(False, False, 'Waiting for deployment "web" rollout to finish: '
                   "2 of 3 updated replicas are available...")),
    (_deployment(observedGeneration=2, replicas=3, updatedReplicas=3, availableReplicas=3),
     RolloutStatus(True, False, 'deployment "web" successfully rolled out')),
], ids=["not-observed", "deadline", "updating", "old-pending", "unavailable", "done"])
def test_rollout_status_decides_as_kubectl(
    deployment: dict[str, Any], expected: RolloutStatus
) -> None:
    assert rollout_status(deployment) == expected


def test_cli_deploys_and_reports_through_the_kubernetes_target(
    config: HarnessConfig, api: RunningApiServer, model_artifact: Path
) -> None:
    def harness(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness", "--config", str(config.source), *args],
            cwd=config.root, capture_output=True, text=True, timeout=120, check=False,
        )

    with Controller(api.url, NAMESPACE):
        result = harness("deploy", "--env", "staging", "--artifact", str(model_artifact),
                         "--image", image("d"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("staging: healthy, candidate ")
    assert f"image {image('d')}" in result.stdout
    result = harness("status")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "production: nothing deployed"
    result = harness("deploy", "--env", "staging", "--artifact", str(model_artifact),
                     "--image", "credit:latest")
    assert result.returncode == 2
    assert "image 'credit:latest' is not pinned by digest" in result.stderr


def test_an_overlay_that_disagrees_with_the_config_is_refused_before_anything_is_applied(
    tmp_path: Path, api: RunningApiServer, candidates: tuple[Candidate, Candidate]
) -> None:
    config = kube_config(tmp_path, api.write_kubeconfig(tmp_path / "kubeconfig"))
    path = config.source
    text = path.read_text().replace("namespace: credit-staging", "namespace: credit-qa")
    path.write_text(text)
    with pytest.raises(DeployError, match="is in namespace 'credit-staging', but "
                       "environments.staging.namespace is 'credit-qa'; make them agree"):
        target(load_config(path)).deploy("staging", candidates[0])
    assert api.api is not None and not [r for r in api.api.recorded if r.method == "PATCH"]
