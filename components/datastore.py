"""What the Database and Cache components share: a single primary server in a
StatefulSet with a metrics sidecar, generated credentials, an app Secret, and a
network policy that admits only the app (and the metrics scraper).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import network, pod
from components.annotations import SINGLETON, checkov_skips
from components.env_secret import EnvSecret, env_secret
from components.naming import AppIdentity, k8s_name

UID_SKIP = checkov_skips(
    ("CKV_K8S_40", "the official postgres and redis images run as their own user, UID 999, "
     "which owns the data directory they initialise")
)
IMAGE_UID = 999
"""The user of the official postgres and redis images, which owns their data directories."""


@dataclass(frozen=True, kw_only=True)
class StoreArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    clients: Sequence[str]
    """Components of the app whose long-running pods use this store (web, workers)."""
    direct_clients: Sequence[str] = ()
    """Components that connect to the server itself, past any pooler (migration, backups)."""
    metrics_namespace: str | None = None
    """Namespace of the metrics scraper, which may reach the exporter port."""
    protect: bool = False
    """Protect the StatefulSet, its volumes and the credentials (production)."""


def retained_claim(labels: dict[str, str], size: str, storage_class: str | None) -> k8s.core.v1.PersistentVolumeClaimArgs:
    return k8s.core.v1.PersistentVolumeClaimArgs(
        metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
        spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
            access_modes=["ReadWriteOnce"],
            storage_class_name=storage_class,
            resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": size}),
        ),
    )


def exporter(
    image: str, env: dict[str, str], port: int, health_path: str, secrets_dir: str
) -> k8s.core.v1.ContainerArgs:
    """A Prometheus exporter sidecar that reads its password from the mounted Secret."""

    def probe(period: int) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=health_path, port="metrics"), period_seconds=period
        )

    return k8s.core.v1.ContainerArgs(
        name="exporter",
        image=image,
        image_pull_policy="IfNotPresent",
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in env.items()],
        ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=port, protocol="TCP")],
        resources=pod.resource_requirements({"cpu": "10m", "memory": "32Mi"}, {"cpu": "200m", "memory": "128Mi"}),
        readiness_probe=probe(15),
        liveness_probe=probe(30),
        security_context=pod.container_security_context(IMAGE_UID),
        volume_mounts=[k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=secrets_dir, read_only=True)],
    )


@dataclass(frozen=True, kw_only=True)
class ServerSet:
    """Which of a store's StatefulSets: the primary, or another set of servers beside it."""

    resource: str
    """Suffix of its Pulumi resource name."""
    object_name: str
    component: str
    replicas: int
    annotations: dict[str, str]


class DataStore(pulumi.ComponentResource):
    """Base of the data components: naming, credentials, the app Secret, the primary."""

    env_secret: EnvSecret
    client_egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]
    """What the app's pods need in their egress policy to reach this store."""
    migration_env: list[k8s.core.v1.EnvVarArgs]
    """Overrides for jobs that must bypass a pooler (migrations, backups)."""
    migration_wait: list[k8s.core.v1.ContainerArgs]
    """Init containers that hold a migration until the store answers."""

    def __init__(self, type_: str, name: str, args: StoreArgs, *, component: str, object_name: str,
                 opts: pulumi.ResourceOptions | None):
        super().__init__(type_, name, None, opts)
        self._name, self._store, self._component, self._object = name, args, component, object_name
        self._keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self._child = pulumi.ResourceOptions(parent=self)
        self.client_egress = []
        self.migration_env = []
        self.migration_wait = []

    def _build(self, mode: str) -> None:
        """Create the store's resources for its mode; the last step of a constructor."""
        self._runs_here = mode != "external"
        if mode == "external":
            self._external()
        else:
            self._in_cluster()
        self.register_outputs({})

    def _external(self) -> None:
        raise NotImplementedError

    def _in_cluster(self) -> None:
        raise NotImplementedError

    @property
    def has_exporter(self) -> bool:
        """Whether the store runs here, with its metrics exporter (a managed one is watched by its provider)."""
        return self._runs_here

    @property
    def component(self) -> str:
        """Its `app.kubernetes.io/component` label: database, cache or broker."""
        return self._component

    @property
    def object_name(self) -> str:
        """The name of the store's Service (its scrape job) and of its workload."""
        return self._object

    @property
    def selector(self) -> dict[str, str]:
        return self._store.identity.selector(self._component)

    def _metadata(
        self, name: str, annotations: dict[str, str] | None = None, *, component: str | None = None
    ) -> k8s.meta.v1.ObjectMetaArgs:
        """Metadata of one of the store's objects; `component` labels another of its server
        sets (a database's replicas) than the primary's."""
        return k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=self._store.namespace,
            labels=self._store.identity.labels(component or self._component),
            annotations=annotations or None,
        )

    def _host(self, service: str) -> pulumi.Output[str]:
        return pulumi.Output.concat(service, ".", self._store.namespace, ".svc.cluster.local")

    def _password(self, role: str) -> pulumi.Output[str]:
        # Letters and digits only: safe in URLs, config files and shells without escaping.
        return random.RandomPassword(f"{self._name}-{role}-password", length=32, special=False, opts=self._keep).result

    def _app_secret(self, env: pulumi.Input[dict[str, str]]) -> k8s.core.v1.Secret:
        """The Secret every app pod reads with envFrom, and its checksum for rollouts."""
        secret, self.env_secret = env_secret(f"{self._name}-app-secret", self._metadata(self._object), env, self._keep)
        return secret

    def _services(
        self, ports: dict[str, int], metrics_port: int, *, component: str | None = None, object_name: str | None = None
    ) -> tuple[k8s.core.v1.Service, k8s.core.v1.Service]:
        """The Service clients (and the scraper) use, and the headless one that governs
        the StatefulSet: only a headless Service gives each pod the stable DNS name a
        StatefulSet promises. Of the primary, or of the server set `component` names."""
        name = object_name or self._object
        prefix = f"{component}-" if component else ""
        governing = self._service(f"{prefix}headless", k8s_name(name, "headless"), ports, headless=True, component=component)
        service = self._service(f"{prefix}service", name, {**ports, "metrics": metrics_port}, component=component)
        return service, governing

    def _service(
        self, role: str, name: str, ports: dict[str, int], *, headless: bool = False, component: str | None = None
    ) -> k8s.core.v1.Service:
        """A Service for a server set; each port targets the container port of the same name."""
        return k8s.core.v1.Service(
            f"{self._name}-{role}",
            metadata=self._metadata(name, component=component),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                cluster_ip="None" if headless else None,
                selector=self._store.identity.selector(component or self._component),
                ports=[k8s.core.v1.ServicePortArgs(name=n, port=p, target_port=n) for n, p in ports.items()],
            ),
            opts=self._child,
        )

    def _external_egress(self, port: int) -> None:
        # A managed server sits outside the cluster, often on a private address.
        self.client_egress.append(
            network.egress_rule([network.Peer(ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0"))], network.tcp(port))
        )

    def _server_policy(self, port: int, metrics_port: int, clients: Sequence[str]) -> None:
        """Only `clients` (components of the app) reach the server, and it reaches nothing.

        The store's own pods are not among its clients, and a server never dials out:
        egress is closed (DNS aside, which the namespace opens for every pod).
        """
        args = self._store
        ingress = []
        if clients:
            peer = network.components_peer(args.identity.app_selector(), clients)
            ingress.append(network.ingress_rule([peer], network.tcp(port)))
        if args.metrics_namespace:
            ingress.append(network.ingress_rule([network.namespace_peer(args.metrics_namespace)], network.tcp(metrics_port)))
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-network-policy",
            metadata=self._metadata(self._object),
            spec=network.policy_spec(self.selector, ingress=ingress, egress=[]),
            opts=self._child,
        )
        self.client_egress.append(network.egress_rule([network.pod_peer(self.selector)], network.tcp(port)))

    def _primary(self, *, singleton_reason: str, uid_skip: dict[str, str] = UID_SKIP, **pod_args: Any) -> k8s.apps.v1.StatefulSet:
        """One server pod, run as the image's own user, with volumes that outlive it;
        `pod_args` are `_server_set`'s."""
        return self._server_set(
            ServerSet(resource="statefulset", object_name=self._object, component=self._component, replicas=1,
                      annotations={**uid_skip, SINGLETON: singleton_reason}),
            **pod_args,
        )

    def _server_set(
        self,
        server_set: ServerSet,
        *,
        service_name: pulumi.Input[str],
        containers: Sequence[k8s.core.v1.ContainerArgs],
        volumes: Sequence[k8s.core.v1.VolumeArgs],
        claims: Sequence[k8s.core.v1.PersistentVolumeClaimArgs] | None,
        grace_seconds: int,
        config_checksum: str,
        run_as: int = IMAGE_UID,
        init_containers: Sequence[k8s.core.v1.ContainerArgs] = (),
        spread: Sequence[k8s.core.v1.TopologySpreadConstraintArgs] | None = None,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> k8s.apps.v1.StatefulSet:
        """A StatefulSet of this store's servers, protected with the store's data."""
        labels = self._store.identity.labels(server_set.component)
        selector = self._store.identity.selector(server_set.component)
        return k8s.apps.v1.StatefulSet(
            f"{self._name}-{server_set.resource}",
            metadata=self._metadata(server_set.object_name, server_set.annotations, component=server_set.component),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                replicas=server_set.replicas,
                service_name=service_name,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                # Volumes outlive the StatefulSet and any scale-down: data goes only by hand.
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                volume_claim_templates=list(claims) if claims else None,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations={"checksum/config": config_checksum}),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=pod.pod_security_context(run_as),
                        termination_grace_period_seconds=grace_seconds,
                        init_containers=list(init_containers) or None,
                        containers=list(containers),
                        volumes=list(volumes),
                        topology_spread_constraints=list(spread) if spread else None,
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions.merge(self._keep, pulumi.ResourceOptions(depends_on=list(depends_on))),
        )
