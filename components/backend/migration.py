"""The database migration Job that gates every rollout."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.backend.spec import MigrationSpec
from components.backend.workload import AppPod
from components.fingerprint import fingerprint
from components.naming import k8s_name


def job_name(app_name: str, image: str, env_checksum: str, migration: MigrationSpec) -> str:
    """A name that changes whenever the Job's pod would.

    A Job's pod template is immutable, so a new image, command or environment must
    come as a new Job, which the engine creates (and waits for) before it touches the
    Deployments. A new environment re-runs the migration too: a changed database URL
    gets its schema before the app is pointed at it.
    """
    content = [image, env_checksum, migration.model_dump(mode="json")]
    return k8s_name(app_name, "migrate", fingerprint(content, length=10))


def migration_job(
    name: str,
    *,
    app_name: str,
    namespace: pulumi.Input[str],
    labels: dict[str, str],
    annotations: dict[str, str],
    app_pod: AppPod,
    migration: MigrationSpec,
    env: Sequence[k8s.core.v1.EnvVarArgs] = (),
    init_containers: Sequence[k8s.core.v1.ContainerArgs] = (),
    opts: pulumi.ResourceOptions,
) -> k8s.batch.v1.Job:
    container = app_pod.container(
        "migrate", command=migration.command, resources=migration.resources, env=env
    )
    return k8s.batch.v1.Job(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=pulumi.Output.all(app_pod.image, app_pod.env_checksum).apply(
                lambda parts: job_name(app_name, parts[0], parts[1], migration)
            ),
            namespace=namespace,
            labels=labels,
            annotations=annotations or None,
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=migration.retries,
            active_deadline_seconds=migration.timeout_seconds,
            template=app_pod.template(
                labels=labels,
                container=container,
                init_containers=init_containers,
                termination_grace_seconds=30,
                restart_policy="Never",
            ),
        ),
        opts=opts,
    )
