"""The database migration Job that gates every rollout."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.backend.spec import MigrationSpec
from components.backend.workload import AppPod
from components.fingerprint import fingerprint, plain
from components.naming import k8s_name


class RolloutGate(Protocol):
    """Carries the migration-before-rollout order in the objects themselves
    (components/database/rollout.py), for exports applied without the engine."""

    def record(self, revision: pulumi.Input[str], run_as_user: int) -> k8s.core.v1.ContainerArgs:
        """The Job's last step, once the migration has succeeded."""
        ...

    def wait(self, revision: pulumi.Input[str], run_as_user: int) -> k8s.core.v1.ContainerArgs:
        """An app pod's first step, until `revision` is recorded."""
        ...


SCHEDULING_SLACK_SECONDS = 300
"""Time for the Job's pod to be scheduled and pull its image, on top of its deadlines."""


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
    gate: RolloutGate | None = None,
    opts: pulumi.ResourceOptions,
) -> tuple[k8s.batch.v1.Job, pulumi.Output[str]]:
    """The Job and its revision: the name app pods wait for when there is a gate."""
    migrate = app_pod.container(
        "migrate", command=migration.command, resources=migration.resources, env=env
    )

    def template(
        container: k8s.core.v1.ContainerArgs, before: Sequence[k8s.core.v1.ContainerArgs]
    ) -> k8s.core.v1.PodTemplateSpecArgs:
        return app_pod.template(
            labels=labels,
            container=container,
            init_containers=before,
            termination_grace_seconds=30,
            restart_policy="Never",
        )

    # The revision covers the migration itself; the gate's step only follows from it.
    migration_only = template(migrate, init_containers)
    revision = pulumi.Output.from_input(migration_only).apply(lambda resolved: job_name(app_name, resolved, migration))
    # Init containers run one after another and stop the pod at the first failure,
    # so the gate's record step runs only after a migration that succeeded.
    pod_template = template(gate.record(revision, app_pod.run_as_user), [*init_containers, migrate]) if gate else migration_only
    job = k8s.batch.v1.Job(
        name,
        metadata=k8s.meta.v1.ObjectMetaArgs(
            name=revision,
            namespace=namespace,
            labels=labels,
            annotations=annotations or None,
        ),
        spec=k8s.batch.v1.JobSpecArgs(
            backoff_limit=migration.retries,
            active_deadline_seconds=migration.timeout_seconds,
            template=pod_template,
        ),
        # The engine waits for a Job for ten minutes unless told otherwise; the deadline
        # bounds the whole Job, retries included, and the rollout must wait for all of it.
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(custom_timeouts=pulumi.CustomTimeouts(
            create=f"{migration.timeout_seconds + SCHEDULING_SLACK_SECONDS}s"))),
    )
    return job, revision
