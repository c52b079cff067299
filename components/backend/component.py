"""The Backend component: a Python web app, its workers and its migration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import network, pod
from components.annotations import SINGLETON, checkov_skips
from components.backend import storage
from components.backend.image import app_image
from components.backend.migration import RolloutGate, migration_job
from components.backend.roles import (
    MIGRATION,
    WEB,
    cron_component,
    worker_component,
    workloads,
)
from components.backend.spec import AppSpec, CronJobSpec, WorkerSpec
from components.backend.workload import AppPod
from components.cronjob import ScheduledJob, cron_job_spec, job_spec, overdue_after
from components.env_secret import EnvSecret
from components.fingerprint import fingerprint
from components.naming import AppIdentity, k8s_name
from components.network import NetworkSpec

TYPE = "shipyard:app:Backend"
SHARED = "backend"
"""Component label of objects every app pod uses (service account, environment, egress)."""
SERVICE_PORT = 80
SCHEDULER_REASON = "scheduler: a second one would run every periodic task twice"
# checkov's CKV_K8S_35 (CIS 5.4.1) prefers secrets as files. These apps are configured
# through their environment (DATABASE_URL, API keys), as their frameworks expect.
ENV_SECRETS_SKIP = checkov_skips(
    ("CKV_K8S_35", "the app reads its credentials from environment variables (12-factor); "
     "they come from Secrets via envFrom, never from literal values")
)
# Defaults for every Python process; the app's own `env` wins over them.
PYTHON_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}


@dataclass(frozen=True, kw_only=True)
class BackendArgs:
    namespace: pulumi.Input[str]
    instance: str
    """Unique name of this deployment of the app (app.kubernetes.io/instance)."""
    app: AppSpec
    """What to run; the version label comes from its image tag."""
    network: NetworkSpec = NetworkSpec()
    secrets: Sequence[EnvSecret] = ()
    """Secrets for the app's environment: database and cache URLs, API keys."""
    secret_files: Sequence[tuple[pulumi.Input[str], str]] = ()
    """(Secret name, directory): Secrets also mounted read-only as files in every app container."""
    egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] = ()
    """Destinations the app's pods may reach besides DNS (its database, its cache)."""
    migration_env: Sequence[k8s.core.v1.EnvVarArgs] = ()
    """Variables that differ for the migration Job, e.g. a direct database URL past a pooler."""
    migration_wait: Sequence[k8s.core.v1.ContainerArgs] = ()
    """Init containers for the migration Job, e.g. one that waits for the database."""
    migration_after: Sequence[pulumi.Resource] = ()
    """Resources the migration Job is created after (the database it migrates)."""
    rollout_gate: RolloutGate | None = None
    """Makes app pods wait for their migration even when the objects are applied without
    the engine (a rendered export); None leaves the order to the engine alone."""
    strict_spread: bool = False
    """Refuse to put two web or worker pods on one node (production)."""
    scraped: bool = False
    """Prometheus scrapes the web pods' own metrics: `network.metricsNamespace` may reach the app's port."""
    protect: bool = False
    """Protect the shared volumes (uploads) against deletion and replacement (production)."""
    web_component: str = WEB
    """The web process's `app.kubernetes.io/component` label: `frontend` for a second web
    service beside the app (components/frontend), so policies tell the two apart."""
    app_label: str | None = None
    """The `app.kubernetes.io/name` label when it is not `app.name`: a frontend is part of the
    app it fronts, and keeps its labels, its own component label telling it apart."""
    env_defaults: Mapping[str, str] = field(default_factory=lambda: dict(PYTHON_ENV))
    """Variables every process starts with; the service's own `env` wins over them."""


class Backend(pulumi.ComponentResource):
    """Deployment, Service, HPA and PDB for the web process; Deployments for workers;
    a migration Job that every Deployment waits for; network policies for all of them."""

    service_name: pulumi.Output[str]
    service_url: pulumi.Output[str]
    image: pulumi.Output[str]
    watched: list[ScheduledJob]
    volume_claims: dict[str, pulumi.Output[str]]
    """The claim of each of `app.volumes`, by its name: backups mount them too."""
    """The app's CronJobs, for the alerts on runs that failed or are overdue."""

    def __init__(self, name: str, args: BackendArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._name = name
        self._args = args
        app = args.app
        self._identity = AppIdentity(name=args.app_label or app.name, instance=args.instance, version=app.version)
        self.image = app_image(name, app, parent=self)

        account = self._service_account()
        env = self._env_config_map()
        claims = [self._shared_claim(volume) for volume in app.volumes]
        self.volume_claims = {volume.name: claim.metadata.name for volume, claim in zip(app.volumes, claims)}
        self._pod = AppPod(
            image=self.image,
            pull_policy=app.image_pull_policy,
            run_as_user=app.run_as_user,
            service_account=account.metadata.name,
            env_from=[
                k8s.core.v1.EnvFromSourceArgs(
                    config_map_ref=k8s.core.v1.ConfigMapEnvSourceArgs(name=env.metadata.name)
                ),
                *(
                    k8s.core.v1.EnvFromSourceArgs(
                        secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret.name)
                    )
                    for secret in args.secrets
                ),
            ],
            # A hash over everything the pods read at start. Made plain on purpose: it
            # reveals nothing of the secrets in it, and a secret annotation would hide the
            # whole pod template from every diff.
            env_checksum=pulumi.Output.unsecret(
                pulumi.Output.all(env.data, *(s.checksum for s in args.secrets)).apply(fingerprint)
            ),
            shared_volumes=[
                *(storage.volume(v, c.metadata.name) for v, c in zip(app.volumes, claims)),
                *(storage.secret_volume(f"secret-files-{i}", name) for i, (name, _) in enumerate(args.secret_files)),
            ],
            shared_mounts=[
                *(storage.mount(v) for v in app.volumes),
                *(storage.secret_mount(f"secret-files-{i}", path) for i, (_, path) in enumerate(args.secret_files)),
            ],
        )

        # Set on each workload object, since checkov reads skips from the object itself.
        self._workload_annotations = ENV_SECRETS_SKIP if args.secrets else {}

        rollout_after = []
        self._rollout_wait: list[k8s.core.v1.ContainerArgs] = []
        if app.migration is not None:
            job, revision = migration_job(
                f"{name}-migrate",
                app_name=app.name,
                namespace=args.namespace,
                labels=self._identity.labels(MIGRATION),
                annotations=self._workload_annotations,
                app_pod=self._pod,
                migration=app.migration,
                env=args.migration_env,
                init_containers=args.migration_wait,
                gate=args.rollout_gate,
                opts=self._child(depends_on=list(args.migration_after)),
            )
            rollout_after.append(job)
            if args.rollout_gate is not None:
                self._rollout_wait.append(args.rollout_gate.wait(revision, app.run_as_user))
        self._rollout_opts = self._child(depends_on=rollout_after)

        service = self._web()
        for worker in app.workers:
            self._worker(worker)
        self.watched = []
        for cron_job in app.cron_jobs:
            self._cron_job(cron_job)
        self._network_policies()

        self.service_name = service.metadata.name
        self.service_url = pulumi.Output.concat(
            "http://", self.service_name, ".", args.namespace, ".svc.cluster.local"
        )
        self.register_outputs(
            {"service_name": self.service_name, "service_url": self.service_url, "image": self.image}
        )

    # -- helpers -------------------------------------------------------------------

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _metadata(
        self, name: str, component: str, annotations: dict[str, str] | None = None
    ) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=self._args.namespace,
            labels=self._identity.labels(component),
            # None, not {}: the engine leaves an empty map out of what it sends.
            annotations=annotations or None,
        )

    def _service_account(self) -> k8s.core.v1.ServiceAccount:
        return k8s.core.v1.ServiceAccount(
            f"{self._name}-service-account",
            metadata=self._metadata(k8s_name(self._args.app.name), SHARED),
            automount_service_account_token=False,
            opts=self._child(),
        )

    def _shared_claim(self, volume: storage.SharedVolumeSpec) -> k8s.core.v1.PersistentVolumeClaim:
        # What users stored lives here: kept like the database's volume in production.
        keep = self._args.protect
        return k8s.core.v1.PersistentVolumeClaim(
            f"{self._name}-{volume.name}-volume",
            metadata=self._metadata(storage.claim_name(self._args.app.name, volume), SHARED),
            spec=storage.claim_spec(volume),
            opts=self._child(protect=keep, retain_on_delete=keep),
        )

    def _env_config_map(self) -> k8s.core.v1.ConfigMap:
        return k8s.core.v1.ConfigMap(
            f"{self._name}-env",
            metadata=self._metadata(k8s_name(self._args.app.name, "env"), SHARED),
            data={**self._args.env_defaults, **self._args.app.env},
            opts=self._child(),
        )

    def _deployment(
        self,
        resource_name: str,
        *,
        object_name: str,
        component: str,
        container: k8s.core.v1.ContainerArgs,
        replicas: int | None,
        singleton: str | None,
        grace_seconds: int,
    ) -> k8s.apps.v1.Deployment:
        """`singleton` is None, or why this workload must never run twice."""
        selector = self._identity.selector(component)
        if singleton:
            # Never two at once, not even during a rollout.
            strategy = k8s.apps.v1.DeploymentStrategyArgs(type="Recreate")
        else:
            # New pods must be ready before an old one goes: rollouts never lose capacity.
            strategy = k8s.apps.v1.DeploymentStrategyArgs(
                type="RollingUpdate",
                rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(
                    max_unavailable=0, max_surge="25%"
                ),
            )
        spread = () if singleton else pod.topology_spread(selector, strict_nodes=self._args.strict_spread)
        return k8s.apps.v1.Deployment(
            resource_name,
            metadata=self._metadata(
                object_name,
                component,
                {**self._workload_annotations, **({SINGLETON: singleton} if singleton else {})},
            ),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=replicas,
                revision_history_limit=5,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                strategy=strategy,
                template=self._pod.template(
                    labels=self._identity.labels(component),
                    container=container,
                    termination_grace_seconds=grace_seconds,
                    spread=spread,
                    init_containers=self._rollout_wait,
                ),
            ),
            opts=self._rollout_opts,
        )

    def _disruption_budget(self, resource_name: str, object_name: str, component: str) -> None:
        k8s.policy.v1.PodDisruptionBudget(
            resource_name,
            metadata=self._metadata(object_name, component),
            spec=pod.disruption_budget_spec(self._identity.selector(component)),
            opts=self._child(),
        )

    # -- the web process -------------------------------------------------------------

    def _web(self) -> k8s.core.v1.Service:
        app = self._args.app
        object_name = k8s_name(app.name)
        probes = pod.http_probes(
            "http",
            liveness_path=app.health_path,
            readiness_path=app.readiness_path or app.health_path,
            headers=app.probe_headers,
        )
        web = self._args.web_component
        container = self._pod.container(
            web,
            command=app.command,
            resources=app.resources,
            probes=probes,
            ports=[k8s.core.v1.ContainerPortArgs(name="http", container_port=app.port, protocol="TCP")],
            pre_stop_seconds=app.pre_stop_seconds,
        )
        deployment = self._deployment(
            f"{self._name}-web",
            object_name=object_name,
            component=web,
            container=container,
            # With an autoscaler, a replicas field would reset the HPA's count on every update.
            replicas=None if app.replicas.autoscaled else app.replicas.min,
            singleton=None,
            # Longer than the pause plus the server's own drain, so the kubelet never
            # kills a worker that is still finishing a request.
            grace_seconds=app.pre_stop_seconds + app.graceful_shutdown_seconds + 10,
        )
        service = k8s.core.v1.Service(
            f"{self._name}-service",
            metadata=self._metadata(object_name, web),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=self._identity.selector(web),
                ports=[
                    k8s.core.v1.ServicePortArgs(
                        name="http", port=SERVICE_PORT, target_port="http", protocol="TCP"
                    )
                ],
            ),
            opts=self._child(),
        )
        if app.replicas.autoscaled:
            self._autoscaler(object_name, deployment)
        self._disruption_budget(f"{self._name}-web-pdb", object_name, web)
        return service

    def _autoscaler(self, object_name: str, deployment: k8s.apps.v1.Deployment) -> None:
        app = self._args.app

        def utilization(resource: str, percent: int) -> k8s.autoscaling.v2.MetricSpecArgs:
            return k8s.autoscaling.v2.MetricSpecArgs(
                type="Resource",
                resource=k8s.autoscaling.v2.ResourceMetricSourceArgs(
                    name=resource,
                    target=k8s.autoscaling.v2.MetricTargetArgs(
                        type="Utilization", average_utilization=percent
                    ),
                ),
            )

        k8s.autoscaling.v2.HorizontalPodAutoscaler(
            f"{self._name}-web-hpa",
            metadata=self._metadata(object_name, self._args.web_component),
            spec=k8s.autoscaling.v2.HorizontalPodAutoscalerSpecArgs(
                scale_target_ref=k8s.autoscaling.v2.CrossVersionObjectReferenceArgs(
                    api_version="apps/v1", kind="Deployment", name=deployment.metadata.name
                ),
                min_replicas=app.replicas.min,
                max_replicas=app.replicas.max,
                metrics=[
                    utilization("cpu", app.autoscaling.cpu_utilization),
                    utilization("memory", app.autoscaling.memory_utilization),
                ],
                behavior=k8s.autoscaling.v2.HorizontalPodAutoscalerBehaviorArgs(
                    scale_down=k8s.autoscaling.v2.HPAScalingRulesArgs(
                        stabilization_window_seconds=app.autoscaling.scale_down_stabilization_seconds
                    )
                ),
            ),
            opts=self._child(),
        )

    # -- workers --------------------------------------------------------------------

    def _worker(self, worker: WorkerSpec) -> None:
        component = worker_component(worker.name)
        object_name = k8s_name(self._args.app.name, worker.name)
        checks = pod.exec_probes(
            worker.probe.command,
            period_seconds=worker.probe.period_seconds,
            timeout_seconds=worker.probe.timeout_seconds,
        )
        # Startup and readiness may ask the broker; liveness tests only the process,
        # so a broker restart does not get every worker killed at once.
        liveness = worker.liveness
        probes = pod.ProbeSet(
            startup=checks.startup,
            readiness=checks.readiness,
            liveness=pod.exec_probe(
                liveness.exec_command,
                period_seconds=liveness.period_seconds,
                timeout_seconds=liveness.timeout_seconds,
                failures=3,
            ),
        )
        container = self._pod.container(
            worker.name, command=worker.command, resources=worker.resources, probes=probes
        )
        self._deployment(
            f"{self._name}-{worker.name}",
            object_name=object_name,
            component=component,
            container=container,
            replicas=worker.replicas,
            singleton=SCHEDULER_REASON if worker.singleton else None,
            grace_seconds=worker.graceful_shutdown_seconds + 10,
        )
        if not worker.singleton:
            self._disruption_budget(f"{self._name}-{worker.name}-pdb", object_name, component)

    # -- periodic jobs ----------------------------------------------------------------

    def _cron_job(self, job: CronJobSpec) -> None:
        """Like a worker's pod, run to completion on a schedule. It waits for its migration
        like every app pod: it runs the app's code against the app's schema."""
        component = cron_component(job.name)
        template = self._pod.template(
            labels=self._identity.labels(component),
            container=self._pod.container(job.name, command=job.command, resources=job.resources),
            termination_grace_seconds=30,
            restart_policy="Never",
            init_containers=self._rollout_wait,
        )
        object_name = k8s_name(self._args.app.name, job.name)
        self.watched.append(ScheduledJob(
            cron_job=object_name, title=f"scheduled job {job.name}",
            stale_seconds=int(overdue_after(job.schedule, job.time_zone, job.timeout_seconds).total_seconds()),
            runbook=f"kubectl -n <namespace> logs job/<job> for the command's own error; run it now with "
                    f"kubectl create job --from=cronjob/{object_name} {object_name}-now",
        ))
        k8s.batch.v1.CronJob(
            f"{self._name}-cron-{job.name}",
            metadata=self._metadata(object_name, component, self._workload_annotations or None),
            spec=cron_job_spec(
                job_spec(template, timeout_seconds=job.timeout_seconds, retries=job.retries),
                schedule=job.schedule,
                time_zone=job.time_zone,
                suspend=job.suspend,
            ),
            opts=self._rollout_opts,
        )

    # -- network --------------------------------------------------------------------

    def _network_policies(self) -> None:
        args = self._args
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-web-ingress",
            metadata=self._metadata(k8s_name(args.app.name, "web-ingress"), args.web_component),
            spec=network.policy_spec(
                self._identity.selector(args.web_component),
                ingress=[
                    network.ingress_rule(
                        [network.namespace_peer(args.network.ingress_namespace)], network.tcp(args.app.port)
                    ),
                    *(
                        [network.ingress_rule([network.namespace_peer(args.network.metrics_namespace)],
                                              network.tcp(args.app.port))]
                        if args.scraped and args.network.metrics_namespace else []
                    ),
                ],
            ),
            opts=self._child(),
        )
        egress = list(args.egress)
        if args.network.internet_egress:
            egress.append(network.internet_egress())
        if egress:
            k8s.networking.v1.NetworkPolicy(
                f"{self._name}-egress",
                metadata=self._metadata(k8s_name(args.app.name, "egress"), SHARED),
                # The app's own pods only: the data stores share its labels but must
                # never reach the internet, and policies add up.
                spec=network.policy_spec(
                    network.components_selector(
                        self._identity.app_selector(),
                        [args.web_component if c == WEB else c for c in workloads(args.app)],
                    ),
                    egress=egress,
                ),
                opts=self._child(),
            )
