"""Persistent volumes the app's pods share, such as an upload folder.

A pod's own filesystem is read-only and its /tmp an emptyDir: what the app writes
there vanishes with the pod and is seen by no other replica. Files that must outlive
pods and be seen by all of them (user uploads) go on one claim that every app pod
mounts, which needs a ReadWriteMany storage class (NFS, EFS, Filestore, Azure Files,
CephFS); object storage through the app's own settings is the other way.
"""

from __future__ import annotations

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s
from pydantic import Field

from components.naming import k8s_name
from components.quantities import MemoryQuantity
from components.spec import DNS_LABEL, Spec


class SharedVolumeSpec(Spec):
    """One persistent volume, mounted at the same path in every app pod."""

    name: str = Field(pattern=DNS_LABEL, max_length=20)
    """Short name (`uploads`); the claim is `<app.name>-<name>`."""
    mount_path: str = Field(pattern=r"^/[^:]*$")
    """Where the pods see it: point the app's folder setting here (UPLOAD_FOLDER)."""
    size: MemoryQuantity = "10Gi"
    """Capacity of the claim."""
    storage_class: str | None = None
    """A StorageClass that offers `accessMode`; the cluster's default when not given."""
    access_mode: Literal["ReadWriteMany", "ReadWriteOnce"] = "ReadWriteMany"
    """ReadWriteMany lets pods on every node mount it; ReadWriteOnce only suits a single pod."""


def claim_name(app: str, spec: SharedVolumeSpec) -> str:
    """The claim's name: `<app.name>-<name>`."""
    return k8s_name(app, spec.name)


def volume_name(spec: SharedVolumeSpec) -> str:
    return f"shared-{spec.name}"


def claim_spec(spec: SharedVolumeSpec) -> k8s.core.v1.PersistentVolumeClaimSpecArgs:
    return k8s.core.v1.PersistentVolumeClaimSpecArgs(
        access_modes=[spec.access_mode],
        storage_class_name=spec.storage_class,
        resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": spec.size}),
    )


def volume(spec: SharedVolumeSpec, claim_name: str) -> k8s.core.v1.VolumeArgs:
    return k8s.core.v1.VolumeArgs(
        name=volume_name(spec),
        persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=claim_name),
    )


def mount(spec: SharedVolumeSpec) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=volume_name(spec), mount_path=spec.mount_path)


def holds(spec: SharedVolumeSpec, path: str) -> bool:
    """Whether `path` lies on this volume."""
    root = spec.mount_path.rstrip("/")
    return path == root or path.startswith(root + "/")


def secret_volume(volume_name: str, secret_name: pulumi.Input[str]) -> k8s.core.v1.VolumeArgs:
    """A Secret as files readable by the app's user only."""
    return k8s.core.v1.VolumeArgs(
        name=volume_name, secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=secret_name, default_mode=0o400)
    )


def secret_mount(volume_name: str, path: str) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=volume_name, mount_path=path, read_only=True)
