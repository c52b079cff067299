"""Pod templates shared by the web process, the workers and the migration Job.

All app pods run the same image with the same environment and the same hardening;
they differ in command, resources, probes and how long they get to shut down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import pod
from components.backend.spec import ResourcesSpec

CHECKSUM_ANNOTATION = "checksum/env"


@dataclass(frozen=True, kw_only=True)
class AppPod:
    """What every pod of one app has in common."""

    image: pulumi.Input[str]
    pull_policy: str
    run_as_user: int
    service_account: pulumi.Input[str]
    env_from: Sequence[k8s.core.v1.EnvFromSourceArgs]
    env_checksum: pulumi.Input[str]
    """Hash of the ConfigMap and Secrets behind `env_from`: a change rolls the pods."""
    shared_volumes: Sequence[k8s.core.v1.VolumeArgs] = ()
    """Persistent volumes every pod of the app mounts."""
    shared_mounts: Sequence[k8s.core.v1.VolumeMountArgs] = ()

    def container(
        self,
        name: str,
        *,
        command: Sequence[str] | None,
        resources: ResourcesSpec,
        probes: pod.ProbeSet | None = None,
        ports: Sequence[k8s.core.v1.ContainerPortArgs] = (),
        pre_stop_seconds: int = 0,
        env: Sequence[k8s.core.v1.EnvVarArgs] = (),
    ) -> k8s.core.v1.ContainerArgs:
        # The sleep action needs no shell in the image (distroless images have none).
        lifecycle = (
            k8s.core.v1.LifecycleArgs(
                pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                    sleep=k8s.core.v1.SleepActionArgs(seconds=pre_stop_seconds)
                )
            )
            if pre_stop_seconds
            else None
        )
        return k8s.core.v1.ContainerArgs(
            name=name,
            image=self.image,
            image_pull_policy=self.pull_policy,
            command=list(command) if command else None,
            ports=list(ports) or None,
            env_from=list(self.env_from),
            # Explicit variables win over envFrom ones of the same name.
            env=list(env) or None,
            resources=pod.resource_requirements(
                resources.requests.model_dump(), resources.limits.model_dump()
            ),
            startup_probe=probes.startup if probes else None,
            readiness_probe=probes.readiness if probes else None,
            liveness_probe=probes.liveness if probes else None,
            lifecycle=lifecycle,
            security_context=pod.container_security_context(self.run_as_user),
            volume_mounts=[pod.tmp_mount(), *self.shared_mounts],
        )

    def template(
        self,
        *,
        labels: dict[str, str],
        container: k8s.core.v1.ContainerArgs,
        termination_grace_seconds: int,
        spread: Sequence[k8s.core.v1.TopologySpreadConstraintArgs] = (),
        restart_policy: str | None = None,
        init_containers: Sequence[k8s.core.v1.ContainerArgs] = (),
    ) -> k8s.core.v1.PodTemplateSpecArgs:
        return k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(
                labels=labels, annotations={CHECKSUM_ANNOTATION: self.env_checksum}
            ),
            spec=k8s.core.v1.PodSpecArgs(
                service_account_name=self.service_account,
                # The app never talks to the Kubernetes API; a mounted token would only
                # be something to steal.
                automount_service_account_token=False,
                # Service links flood the environment with *_PORT variables that can
                # shadow the app's own settings (REDIS_PORT, ...).
                enable_service_links=False,
                security_context=pod.pod_security_context(self.run_as_user),
                termination_grace_period_seconds=termination_grace_seconds,
                topology_spread_constraints=list(spread) or None,
                restart_policy=restart_policy,
                init_containers=list(init_containers) or None,
                containers=[container],
                volumes=[pod.tmp_volume(), *self.shared_volumes],
            ),
        )
