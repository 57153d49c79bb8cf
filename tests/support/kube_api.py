"""A Kubernetes API emulator on a real loopback port, and a stand-in Deployment controller.

kmock's ``KubernetesEmulator`` stores objects and serves get/list/create/patch;
``ApiServer`` adds what a real API server does that the harness relies on:
server-side apply creates or updates (and needs a field manager), RFC 6902
JSON patches, uids, ``metadata.generation`` bumped on spec changes. It runs on
its own event loop in a thread, so the (synchronous) official client talks to
it over HTTP as it would to a cluster.

No controllers run in an emulator; ``Controller`` plays the Deployment
controller: for each new generation it makes (or reuses) the ReplicaSet of the
pod template with the next revision, and reports the rollout as the test
wants (done, stuck, or past its progress deadline).
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aiohttp.web
import kmock
import yaml
from kubernetes import client as k8s

Obj = dict[str, Any]
REVISION = "deployment.kubernetes.io/revision"


def _merge(base: Any, patch: Any) -> Any:
    """JSON merge patch (RFC 7386): dicts merge, None deletes, anything else replaces."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged


def _json_patch(obj: Obj, operations: list[Obj]) -> Obj:
    """RFC 6902 add/replace/remove, the operations kubectl's rollback uses."""
    obj = copy.deepcopy(obj)
    for op in operations:
        *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        node = obj
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if op["op"] in ("add", "replace"):
            node[last] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            del node[last]
        else:
            raise ValueError(f"unsupported JSON patch op {op['op']}")
    return obj


@dataclass
class Recorded:
    method: str
    path: str
    content_type: str
    params: dict[str, str]
    user_agent: str
    body: Any


class ApiServer(kmock.KubernetesEmulator):  # type: ignore[misc]
    """kmock's emulator with server-side apply, JSON patch and generations (see module doc)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.recorded: list[Recorded] = []
        # Known resources list as empty (not 404) before any object of theirs exists.
        for key, kind, namespaced in (
            ("v1/namespaces", "Namespace", False), ("v1/services", "Service", True),
            ("v1/serviceaccounts", "ServiceAccount", True),
            ("apps/v1/deployments", "Deployment", True),
            ("apps/v1/replicasets", "ReplicaSet", True),
        ):
            self.resources[key] = kmock.ResourceInfo(kind=kind, namespaced=namespaced)

    async def _handle(self, request: Any) -> aiohttp.web.StreamResponse:
        self.recorded.append(Recorded(
            method=str(request.method.value if request.method else ""),
            path=request.url.path,
            content_type=request.headers.get("Content-Type", "").split(";")[0],
            params=dict(request.params),
            user_agent=request.headers.get("User-Agent", ""),
            body=request.data,
        ))
        target = self._patch_target(request)
        if request.method == "PATCH" and target is not None:
            try:
                return await self._patch(request, target)
            except kmock.KubernetesError as exc:  # type: ignore[attr-defined]
                return await self._render_error(exc)
        return await super()._handle(request)

    @staticmethod
    def _patch_target(request: Any) -> tuple[Any, str | None, str] | None:
        """(resource, namespace, name) of a request on one object; kmock reads a
        cluster-scoped Namespace's path as a namespace filter, so that one is read here."""
        parts = request.url.path.strip("/").split("/")
        if parts[:3] == ["api", "v1", "namespaces"] and len(parts) == 4:
            return kmock.resource(group="", version="v1", plural="namespaces"), None, parts[3]
        if request.resource is not None and request.name:
            return request.resource, request.namespace, request.name
        return None

    async def _patch(
        self, request: Any, key: tuple[Any, str | None, str]
    ) -> aiohttp.web.StreamResponse:
        content_type = request.headers.get("Content-Type", "").split(";")[0]
        async with self._lock:
            exists = key in self.objects and not self.objects[key].deleted
            current = copy.deepcopy(self.objects[key].raw) if exists else None
            if content_type == "application/apply-patch+yaml":
                if not request.params.get("fieldManager"):
                    return aiohttp.web.json_response(
                        {"kind": "Status", "status": "Failure", "code": 422,
                         "message": "fieldManager is required for apply requests"}, status=422)
                body = yaml.safe_load(request.text)
                if current is None:
                    new = _merge(body, {"metadata": {
                        "uid": str(uuid.uuid4()), "generation": 1,
                        "creationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    }})
                else:
                    new = _merge(current, body)
            elif current is None:
                return aiohttp.web.json_response(
                    {"kind": "Status", "status": "Failure", "code": 404, "reason": "NotFound",
                     "message": f"{request.resource.plural} \"{request.name}\" not found"},
                    status=404)
            elif content_type == "application/json-patch+json":
                new = _json_patch(current, json.loads(request.text))
            else:
                new = _merge(current, json.loads(request.text))
            if current is not None and request.subresource != "status" \
                    and new.get("spec") != current.get("spec"):
                new["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
            self.objects[key] = new
        return aiohttp.web.json_response(new)

    def applies(self) -> list[Recorded]:
        return [r for r in self.recorded if r.content_type == "application/apply-patch+yaml"]


class RunningApiServer:
    """``ApiServer`` served on 127.0.0.1 from a background thread; ``url`` is where."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.url = ""
        self.api: ApiServer | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with ApiServer() as api, kmock.Server(api, host="127.0.0.1") as server:
            self.api, self.url = api, str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> Self:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("the Kubernetes API emulator did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def write_kubeconfig(self, path: Path) -> Path:
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "emulator",
            "clusters": [{"name": "emulator", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "test-token"}}],
            "contexts": [{"name": "emulator",
                          "context": {"cluster": "emulator", "user": "tester"}}],
        }))
        return path


def _body(response: Any) -> Obj:
    return json.loads(response.data)


def _without_hash(template: Obj) -> Obj:
    template = copy.deepcopy(template)
    template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return template


@dataclass
class Controller:
    """Plays the Deployment controller against the emulator, through the official client.

    ``outcome(deployment)`` says how the rollout of a new generation ends:
    ``"done"``, ``"stuck"`` (never progresses) or ``"deadline"``
    (ProgressDeadlineExceeded).
    """

    url: str
    namespace: str
    outcome: Callable[[Obj], str] = lambda deployment: "done"
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        configuration = k8s.Configuration(host=self.url)
        self.apps = k8s.AppsV1Api(k8s.ApiClient(configuration))

    def __enter__(self) -> Self:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join(timeout=10)
        assert not self.errors, self.errors

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.reconcile()
            except BaseException as exc:  # noqa: BLE001 - reported when the test ends
                self.errors.append(exc)
                return
            time.sleep(0.05)

    def replica_sets(self) -> list[Obj]:
        return _body(self.apps.list_namespaced_replica_set(
            self.namespace, _preload_content=False))["items"]

    def reconcile(self) -> None:
        try:
            deployments = _body(self.apps.list_namespaced_deployment(
                self.namespace, _preload_content=False))["items"]
        except k8s.ApiException as exc:
            if exc.status == 404:
                return
            raise
        for deployment in deployments:
            status = deployment.get("status") or {}
            if status.get("observedGeneration") == deployment["metadata"]["generation"]:
                continue
            self._roll_out(deployment)

    def _roll_out(self, deployment: Obj) -> None:
        name, meta = deployment["metadata"]["name"], deployment["metadata"]
        template = _without_hash(deployment["spec"]["template"])
        owned = [rs for rs in self.replica_sets()
                 if any(r["uid"] == meta["uid"] for r in rs["metadata"].get("ownerReferences", []))]
        revision = 1 + max((int(rs["metadata"]["annotations"][REVISION]) for rs in owned), default=0)
        same = next((rs for rs in owned if _without_hash(rs["spec"]["template"]) == template), None)
        copied = {k: v for k, v in (meta.get("annotations") or {}).items() if k != REVISION}
        if same is not None:
            self.apps.patch_namespaced_replica_set(
                same["metadata"]["name"], self.namespace,
                {"metadata": {"annotations": {REVISION: str(revision)}}})
        else:
            pod_hash = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).hexdigest()[:10]
            template["metadata"].setdefault("labels", {})["pod-template-hash"] = pod_hash
            self.apps.create_namespaced_replica_set(self.namespace, {
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {
                    "name": f"{name}-{pod_hash}", "namespace": self.namespace,
                    "labels": template["metadata"]["labels"],
                    "annotations": {**copied, REVISION: str(revision)},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment",
                                         "name": name, "uid": meta["uid"], "controller": True}],
                },
                "spec": {"replicas": deployment["spec"].get("replicas", 1),
                         "selector": deployment["spec"]["selector"], "template": template},
            })
        self.apps.patch_namespaced_deployment(
            name, self.namespace, {"metadata": {"annotations": {REVISION: str(revision)}}})
        replicas = deployment["spec"].get("replicas", 1)
        outcome = self.outcome(deployment)
        status: Obj = {"observedGeneration": meta["generation"]}
        if outcome == "done":
            status.update(replicas=replicas, updatedReplicas=replicas, readyReplicas=replicas,
                          availableReplicas=replicas, conditions=[{
                              "type": "Progressing", "status": "True",
                              "reason": "NewReplicaSetAvailable"}])
        elif outcome == "deadline":
            status.update(replicas=replicas + 1, updatedReplicas=1, availableReplicas=replicas,
                          conditions=[{"type": "Progressing", "status": "False",
                                       "reason": "ProgressDeadlineExceeded"}])
        else:
            status.update(replicas=replicas, updatedReplicas=0, availableReplicas=replicas,
                          conditions=[{"type": "Progressing", "status": "True",
                                       "reason": "ReplicaSetUpdated"}])
        self.apps.patch_namespaced_deployment_status(name, self.namespace, {"status": status})
