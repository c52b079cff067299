"""The database migration Job that gates every rollout."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.backend.spec import MigrationSpec
from components.backend.workload import AppPod
from components.fingerprint import fingerprint, plain
from components.naming import k8s_name


def job_name(app_name: str, template: object, migration: MigrationSpec) -> str:
    """A name that changes whenever the Job's pod would: a hash of the whole pod template.

    A Job's pod template is immutable, so any change to it (image, command,
    environment, an init container's image or host) must come as a new Job, which the
    engine creates (and waits for) before it touches the Deployments; an edit in place
    would be refused by the API server. A new environment re-runs the migration too:
    a changed database URL gets its schema before the app is pointed at it. The
    deadline and retries live outside the template but are part of the name as well,
    so a new setting applies to the next run.
    """
    content = [plain(template), migration.model_dump(mode="json")]
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
    template = app_pod.template(
        labels=labels,
        container=container,
        init_containers=init_containers,
        termination_grace_seconds=30,
        restart_policy="Never",
    )
    return k8s.batch.v1.Job(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=pulumi.Output.from_input(template).apply(lambda resolved: job_name(app_name, resolved, migration)),
            namespace=namespace,
            labels=labels,
            annotations=annotations or None,
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=migration.retries,
            active_deadline_seconds=migration.timeout_seconds,
            template=template,
        ),
        opts=opts,
    )
