"""The ``kubernetes`` deploy target: the official client applies a kustomize overlay
server-side, waits for the rollout as ``kubectl rollout status`` does, and rolls
back as ``kubectl rollout undo`` does.

Credentials: ``deploy.kubernetes.kubeconfig`` (and ``context``) when set, else
the in-cluster service account when running in a pod, else ``$KUBECONFIG`` or
``~/.kube/config``.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, NamedTuple

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException
from urllib3.exceptions import HTTPError

from harness.candidate.identity import Candidate
from harness.clock import utc_now
from harness.config import HarnessConfig
from harness.deploy.httproute import GROUP, PLURAL, VERSION, route_for
from harness.deploy.manifests import (
    CANDIDATE_ANNOTATION,
    DEPLOYED_AT_ANNOTATION,
    kustomize_build,
    stamp_candidate,
)
from harness.deploy.rollout import (
    previous_replica_set,
    revision_of,
    rollback_patch,
    rollout_status,
)
from harness.deploy.target import Deployment
from harness.errors import DeployError, TargetUnreachable

FIELD_MANAGER = "harness"
APPLY = "application/apply-patch+yaml"
JSON_PATCH = "application/json-patch+json"
REQUEST_TIMEOUT_S = 30

Obj = dict[str, Any]

# kind -> (API group class, patch method, namespaced): the kinds our overlays hold.
APPLIERS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("core", "patch_namespace", False),
    "ServiceAccount": ("core", "patch_namespaced_service_account", True),
    "ConfigMap": ("core", "patch_namespaced_config_map", True),
    "Service": ("core", "patch_namespaced_service", True),
    "Deployment": ("apps", "patch_namespaced_deployment", True),
}


class _Env(NamedTuple):
    """What the kubernetes target needs of an environment, all present."""

    namespace: str
    kustomize: Path
    url: str | None


class _NotFound(DeployError):
    """The API answered 404: the object does not exist."""



def _body(response: Any) -> Obj:
    body: Obj = json.loads(response.data)
    return body


class KubernetesTarget:
    """Staging and production as namespaces of a Kubernetes cluster."""

    name = "kubernetes"

    def __init__(
        self,
        config: HarnessConfig,
        ready_timeout_s: float | None = None,
        poll_s: float = 2.0,
    ) -> None:
        self._config = config
        self._spec = config.deploy.kubernetes
        self._deployment_name = self._spec.deployment or config.project
        self._ready_timeout_s = ready_timeout_s or config.deploy.ready_timeout_s
        self._poll_s = poll_s
        self._api_client: k8s.ApiClient | None = None

    # -- the DeployTarget protocol -------------------------------------------------------

    def deploy(self, env: str, candidate: Candidate) -> Deployment:
        spec = self._environment(env)
        objects = kustomize_build(spec.kustomize)
        objects = stamp_candidate(
            objects, candidate, self._deployment_name, self._spec.container, utc_now(),
            self._config.registry, env if self._config.protected(env) else None,
        )
        # Refuse before applying anything, so a bad overlay never half-applies.
        for obj in objects:
            object_kind, name = obj["kind"], obj["metadata"]["name"]
            if object_kind not in APPLIERS:
                raise DeployError(
                    f"{spec.kustomize} holds {object_kind}/{name}, which the kubernetes target "
                    f"does not apply (it applies {', '.join(APPLIERS)})"
                )
            namespace = obj["metadata"].get("namespace")
            if APPLIERS[object_kind][2] and namespace != spec.namespace:
                raise DeployError(
                    f"{object_kind}/{name} from {spec.kustomize} is in namespace '{namespace}', but "
                    f"environments.{env}.namespace is '{spec.namespace}'; make them agree"
                )
        # The environment's HTTPRoute, when it has a Gateway: rendered before anything is
        # applied (a bad route changes nothing), applied with the overlay, without a mirror
        # (a deploy ends a shadow's mirror a killed command left, as the local router does).
        route = (route_for(self._config, env, objects=objects)
                 if self._config.environment(env).gateway is not None else None)
        before = self._read_deployment(spec)
        for obj in objects:
            self._apply(obj)
        if route is not None:
            self.apply_route(route)
        try:
            return self.wait_ready(env, self._ready_timeout_s)
        except DeployError as exc:
            if before is None:
                raise DeployError(f"{exc}; nothing ran before, so nothing was rolled back") from None
            try:
                restored = self.rollback(env)
            except DeployError as again:
                raise DeployError(f"{exc}; rolling back failed too: {again}") from None
            raise DeployError(
                f"{exc}; rolled back to revision {restored.revision} "
                f"(candidate {restored.candidate.id})"
            ) from None

    def status(self, env: str) -> Deployment | None:
        spec = self._environment(env)
        deployment = self._read_deployment(spec)
        if deployment is None:
            return None
        return self._describe(env, spec, deployment)

    def wait_ready(self, env: str, timeout_s: float) -> Deployment:
        return self.wait_rollout(env, self._deployment_name, timeout_s)

    def wait_rollout(self, env: str, name: str, timeout_s: float) -> Deployment:
        """``wait_ready`` for the Deployment ``name`` in ``env``'s namespace (a shadow's)."""
        spec = self._environment(env)
        deadline = time.monotonic() + timeout_s
        while True:
            deployment = self._read_deployment(spec, name)
            if deployment is None:
                raise DeployError(
                    f"no Deployment '{name}' in namespace '{spec.namespace}'; "
                    "deploy a candidate first"
                )
            rollout = rollout_status(deployment)
            if rollout.failed:
                raise DeployError(f"environment '{env}': {rollout.message}")
            if rollout.done:
                return self._describe(env, spec, deployment)
            if time.monotonic() >= deadline:
                raise DeployError(
                    f"environment '{env}': rollout not finished after {timeout_s:g}s: "
                    f"{rollout.message}"
                )
            time.sleep(self._poll_s)

    def rollback(self, env: str) -> Deployment:
        spec = self._environment(env)
        deployment = self._read_deployment(spec)
        if deployment is None:
            raise DeployError(
                f"no Deployment '{self._deployment_name}' in namespace '{spec.namespace}'; "
                "nothing to roll back"
            )
        replica_sets = self._call(
            "list ReplicaSets", self._apps().list_namespaced_replica_set, spec.namespace,
            label_selector=",".join(
                f"{k}={v}" for k, v in
                deployment["spec"].get("selector", {}).get("matchLabels", {}).items()
            ),
        )["items"]
        previous = previous_replica_set(deployment, replica_sets)
        patch = rollback_patch(deployment, previous)
        if patch is not None:
            self._call(
                "roll back", self._apps().patch_namespaced_deployment,
                self._deployment_name, spec.namespace, body=patch, _content_type=JSON_PATCH,
            )
        return self.wait_ready(env, self._ready_timeout_s)

    def stop(self, env: str) -> None:
        spec = self._environment(env)
        if self._read_deployment(spec) is None:
            return
        self._call(
            "scale to zero", self._apps().patch_namespaced_deployment_scale,
            self._deployment_name, spec.namespace, body={"spec": {"replicas": 0}},
        )

    # -- how it is done ------------------------------------------------------------------

    def _environment(self, env: str) -> _Env:
        spec = self._config.environment(env)
        if spec.namespace is None or spec.kustomize is None:
            raise DeployError(
                f"environment '{env}' needs 'namespace' and 'kustomize' for the kubernetes target"
            )
        return _Env(spec.namespace, self._config.resolve(spec.kustomize), spec.url)

    def _client(self) -> k8s.ApiClient:
        if self._api_client is not None:
            return self._api_client
        try:
            if self._spec.kubeconfig is not None:
                path = self._config.resolve(self._spec.kubeconfig)
                if not path.is_file():
                    raise DeployError(f"kubeconfig {path} (deploy.kubernetes.kubeconfig) not found")
                self._api_client = k8s_config.new_client_from_config(
                    config_file=str(path), context=self._spec.context, persist_config=False
                )
            elif "KUBERNETES_SERVICE_HOST" in os.environ:
                configuration = k8s.Configuration()
                k8s_config.load_incluster_config(client_configuration=configuration)
                self._api_client = k8s.ApiClient(configuration)
            else:
                self._api_client = k8s_config.new_client_from_config(
                    context=self._spec.context, persist_config=False
                )
        except (ConfigException, OSError) as exc:
            raise DeployError(
                f"cannot configure the Kubernetes client: {exc}; set deploy.kubernetes.kubeconfig "
                "or run inside the cluster"
            ) from None
        return self._api_client

    def _core(self) -> k8s.CoreV1Api:
        return k8s.CoreV1Api(self._client())

    def _apps(self) -> k8s.AppsV1Api:
        return k8s.AppsV1Api(self._client())

    def _custom(self) -> k8s.CustomObjectsApi:
        return k8s.CustomObjectsApi(self._client())

    def apply_route(self, route: Obj) -> Obj:
        """Server-side apply an HTTPRoute (``harness.deploy.httproute``); the fields it
        leaves out that 'harness' set before (a mirror filter) are removed."""
        meta = route["metadata"]
        try:
            return self._call(
                f"apply HTTPRoute/{meta['name']}", self._custom().patch_namespaced_custom_object,
                GROUP, VERSION, meta["namespace"], PLURAL, meta["name"], body=route,
                field_manager=FIELD_MANAGER, force=True, _content_type=APPLY,
            )
        except _NotFound as exc:
            raise DeployError(f"{exc}; the cluster must serve the Gateway API (its v1 CRDs, "
                              "v1.3 or later for a mirror's percent)") from None

    def read_route(self, namespace: str, name: str) -> Obj | None:
        """The HTTPRoute ``name`` in ``namespace`` as the API holds it, or None."""
        try:
            return self._call(
                f"read HTTPRoute/{name}", self._custom().get_namespaced_custom_object,
                GROUP, VERSION, namespace, PLURAL, name,
            )
        except _NotFound:
            return None

    def apply_objects(self, objects: list[Obj]) -> None:
        """Server-side apply ``objects`` (of the kinds the overlays hold), in order."""
        for obj in objects:
            self._apply(obj)

    def delete(self, object_kind: str, namespace: str, name: str) -> bool:
        """Delete a Deployment or Service; False when there was none."""
        method = {"Deployment": self._apps().delete_namespaced_deployment,
                  "Service": self._core().delete_namespaced_service}[object_kind]
        try:
            self._call(f"delete {object_kind}/{name}", method, name, namespace)
        except _NotFound:
            return False
        return True

    def has_service(self, namespace: str, name: str) -> bool:
        """Whether the Service ``name`` exists in ``namespace``."""
        try:
            self._call(f"read Service/{name}", self._core().read_namespaced_service,
                       name, namespace)
        except _NotFound:
            return False
        return True

    def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Obj:
        """Call the API, return the response body as a dict; errors become one clear line."""
        try:
            return _body(method(
                *args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_S, **kwargs
            ))
        except ApiException as exc:
            message = exc.reason
            try:
                message = json.loads(exc.body or "{}").get("message") or message
            except (TypeError, ValueError):
                pass
            error = _NotFound if exc.status == 404 else DeployError
            raise error(f"Kubernetes refused to {what}: {exc.status} {message}") from None
        except HTTPError as exc:
            host = self._client().configuration.host
            raise TargetUnreachable(f"Kubernetes API {host} unreachable ({what}): {exc}") from None

    def _apply(self, obj: Obj) -> Obj:
        """Server-side apply one object, taking ownership of its fields as 'harness'."""
        kind, name = obj["kind"], obj["metadata"]["name"]
        group, method_name, namespaced = APPLIERS[kind]
        api = self._core() if group == "core" else self._apps()
        args = (name, obj["metadata"]["namespace"]) if namespaced else (name,)
        return self._call(
            f"apply {kind}/{name}", getattr(api, method_name), *args, body=obj,
            field_manager=FIELD_MANAGER, force=True, _content_type=APPLY,
        )

    def _read_deployment(self, spec: _Env, name: str | None = None) -> Obj | None:
        try:
            return self._call(
                "read the Deployment", self._apps().read_namespaced_deployment,
                name or self._deployment_name, spec.namespace,
            )
        except _NotFound:
            return None

    def _describe(self, env: str, spec: _Env, deployment: Obj) -> Deployment:
        template = deployment["spec"]["template"]
        annotations = template.get("metadata", {}).get("annotations") or {}
        try:
            candidate = Candidate.from_dict(json.loads(annotations[CANDIDATE_ANNOTATION]))
        except (KeyError, TypeError, ValueError):
            # Deployed by someone else: say what we can see.
            containers: list[Obj] = template["spec"].get("containers", [])
            image = containers[0].get("image") if containers else None
            candidate = Candidate(id="unknown", artifact=Path(""), artifact_sha256="", image=image)
        rollout = rollout_status(deployment)
        meta = deployment["metadata"]
        return Deployment(
            env=env,
            target=self.name,
            candidate=candidate,
            revision=revision_of(deployment) or 0,
            deployed_at=(meta.get("annotations") or {}).get(DEPLOYED_AT_ANNOTATION)
            or meta.get("creationTimestamp", ""),
            url=spec.url,
            healthy=rollout.done and (deployment.get("status") or {}).get("availableReplicas", 0) > 0,
            detail=rollout.message,
        )
