"""Distributed load on Kubernetes, rendered: a master Job running the load check and a
worker Deployment of ``harness load worker`` pods, with a Service the workers reach the
master by (the shape of the Locust Helm chart and operator).

The master Job runs ``harness check`` itself, so its results are the same JUnit testcases
as a run on one machine, written to its reports volume. Both run the team's service
image, pinned by digest; it carries the harness, the config and the golden data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.load.runner import GRACE_S, STARTUP_S

MASTER_PORT = 5557
REPORTS = "/reports"

Obj = dict[str, Any]


@dataclass(frozen=True)
class LoadCluster:
    """What a distributed load run in a cluster needs beyond the config."""

    image: str
    namespace: str
    workers: int
    profile: str = "load"
    target_url: str | None = None
    reports_claim: str | None = None  # a PersistentVolumeClaim the JUnit files outlive the pod in


def _security() -> Obj:
    return {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}}


def load_manifests(config: HarnessConfig, cluster: LoadCluster) -> list[Obj]:
    """The Service, master Job and worker Deployment of one distributed load run."""
    if "@sha256:" not in cluster.image:
        raise ConfigError(f"image '{cluster.image}' is not pinned by digest; give it as "
                          "name@sha256:<digest> (the image the team's CI built)")
    if cluster.workers < 1:
        raise ConfigError("a distributed load run needs at least one worker (--workers)")
    profile = config.profile(cluster.profile)
    if "load" not in profile.checks:
        raise ConfigError(f"{config.source}: profile '{cluster.profile}' does not run the load "
                          "check; name one whose checks include 'load'")
    name = f"{config.project}-load"
    master = f"{name}-master"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "harness"}
    master_labels = {**labels, "app.kubernetes.io/component": "master"}
    worker_labels = {**labels, "app.kubernetes.io/component": "worker"}
    # The Job ends by itself: the run is bounded, and so is waiting for the workers.
    deadline = int(2 * STARTUP_S + config.load.run_time_s + GRACE_S + 120)
    check = ["harness", "check", "--profile", cluster.profile, "--reports", REPORTS,
             "--remote-workers", str(cluster.workers),
             "--master-bind", f"0.0.0.0:{MASTER_PORT}",
             *(["--target-url", cluster.target_url] if cluster.target_url else [])]
    reports_volume: Obj = ({"persistentVolumeClaim": {"claimName": cluster.reports_claim}}
                           if cluster.reports_claim else {"emptyDir": {}})
    meta = {"namespace": cluster.namespace}
    service = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": master, **meta, "labels": master_labels},
        "spec": {"selector": master_labels,
                 "ports": [{"name": "locust", "port": MASTER_PORT, "targetPort": "locust"}]},
    }
    job = {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": master, **meta, "labels": master_labels},
        "spec": {
            "backoffLimit": 0, "activeDeadlineSeconds": deadline,
            "ttlSecondsAfterFinished": 3600,
            "template": {
                "metadata": {"labels": master_labels},
                "spec": {
                    "restartPolicy": "Never", "automountServiceAccountToken": False,
                    "containers": [{
                        "name": "master", "image": cluster.image, "command": check,
                        "ports": [{"name": "locust", "containerPort": MASTER_PORT}],
                        "volumeMounts": [{"name": "reports", "mountPath": REPORTS},
                                         {"name": "tmp", "mountPath": "/tmp"}],
                        "securityContext": _security(),
                    }],
                    "volumes": [{"name": "reports", **reports_volume},
                                {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
    worker = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": f"{name}-worker", **meta, "labels": worker_labels},
        "spec": {
            "replicas": cluster.workers,
            "selector": {"matchLabels": worker_labels},
            "template": {
                "metadata": {"labels": worker_labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "containers": [{
                        "name": "worker", "image": cluster.image,
                        "command": ["harness", "load", "worker", "--master",
                                    f"{master}:{MASTER_PORT}", "--reports", "/tmp/reports"],
                        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                        "securityContext": _security(),
                    }],
                    "volumes": [{"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }
    return [service, job, worker]


def write_load_manifests(objects: list[dict[str, Any]], folder: Path) -> list[Path]:
    """The objects as one YAML file and a kustomization naming it (``kubectl apply -k``)."""
    folder.mkdir(parents=True, exist_ok=True)
    manifests = folder / "load.yaml"
    manifests.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
    kustomization = folder / "kustomization.yaml"
    kustomization.write_text("apiVersion: kustomize.config.k8s.io/v1beta1\n"
                             "kind: Kustomization\nresources:\n  - load.yaml\n",
                             encoding="utf-8")
    return [manifests, kustomization]
