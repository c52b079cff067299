"""Good objects for the rule tests to break one thing at a time."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from safety import Resource

LABELS = {"app": "web"}


def container() -> dict[str, Any]:
    return {
        "name": "web",
        "image": "web:1@sha256:" + "a" * 64,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "readinessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "livenessProbe": {"httpGet": {"path": "/health", "port": 8000}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}},
    }


def deployment(name: str = "web", replicas: int | None = 3, **metadata: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "selector": {"matchLabels": LABELS},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [container()],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
                "topologySpreadConstraints": [
                    {"maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                     "labelSelector": {"matchLabels": LABELS}}
                ],
            },
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, **metadata}, "spec": spec}


def budget() -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"maxUnavailable": 1, "unhealthyPodEvictionPolicy": "AlwaysAllow", "selector": {"matchLabels": LABELS}},
    }


def k8s(manifest: dict[str, Any], **options: Any) -> Resource:
    api = manifest["apiVersion"]
    group, _, version = api.rpartition("/")
    token = f"kubernetes:{group or 'core'}/{version}:{manifest['kind']}"
    return Resource(type=token, name=manifest["metadata"]["name"], props=manifest, **options)


def changed(manifest: dict[str, Any], change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    copied = copy.deepcopy(manifest)
    change(copied)
    return copied


def pod_of(manifest: dict[str, Any]) -> dict[str, Any]:
    return manifest["spec"]["template"]["spec"]


def container_of(manifest: dict[str, Any]) -> dict[str, Any]:
    return pod_of(manifest)["containers"][0]
