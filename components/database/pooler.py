"""The PgBouncer component, a child of the Database: Deployment, Service, budget, policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import network, pod
from components.database import pgbouncer
from components.database.spec import PgBouncerSpec
from components.fingerprint import fingerprint
from components.naming import AppIdentity

TYPE = "shipyard:data:PgBouncer"
COMPONENT = "pooler"
POOLER_UID = 10001
SERVICE_PORT = 5432


@dataclass(frozen=True, kw_only=True)
class PgBouncerArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    object_name: str
    spec: PgBouncerSpec
    database: str
    user: str
    password: pulumi.Output[str]
    server_host: pulumi.Output[str]
    server_pods: dict[str, str]
    clients: Sequence[str]
    """Components of the app that connect through the pooler."""
    stats_password: pulumi.Output[str] | None = None
    """The exporter's password on the admin console, when `spec.exporter` is on."""
    metrics_namespace: str | None = None
    """Namespace of the Prometheus that scrapes the exporter."""
    protect: bool = False


class PgBouncer(pulumi.ComponentResource):
    def __init__(self, name: str, args: PgBouncerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec, identity = args.spec, args.identity
        labels, selector = identity.labels(COMPONENT), identity.selector(COMPONENT)
        metadata = k8s.meta.v1.ObjectMetaArgs(name=args.object_name, namespace=args.namespace, labels=labels)

        ini = args.server_host.apply(
            lambda host: pgbouncer.pgbouncer_ini(spec, database=args.database, server_host=host, server_port=SERVICE_PORT)
        )
        config = k8s.core.v1.ConfigMap(f"{name}-config", metadata=metadata, data={"pgbouncer.ini": ini}, opts=child)
        exporting = spec.exporter.enabled and args.stats_password is not None
        stats_password = args.stats_password if exporting else pulumi.Output.from_input("")
        users = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata=metadata,
            type="Opaque",
            string_data={
                "userlist.txt": pulumi.Output.all(args.password, stats_password).apply(
                    lambda v: pgbouncer.userlist(args.user, v[0], v[1] if exporting else None)
                ),
                **({"stats-password": stats_password} if exporting else {}),
            },
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )

        def listening(period: int) -> k8s.core.v1.ProbeArgs:
            return k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="pgbouncer"), period_seconds=period)

        container = k8s.core.v1.ContainerArgs(
            name="pgbouncer",
            image=spec.image,
            image_pull_policy="IfNotPresent",
            # The image's entrypoint writes its own config; ours is mounted, so run the server.
            command=["pgbouncer", f"{pgbouncer.CONFIG_DIR}/pgbouncer.ini"],
            ports=[k8s.core.v1.ContainerPortArgs(name="pgbouncer", container_port=pgbouncer.PORT, protocol="TCP")],
            resources=pod.resource_requirements({"cpu": "50m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"}),
            readiness_probe=listening(10),
            liveness_probe=listening(20),
            security_context=pod.container_security_context(POOLER_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="config", mount_path=f"{pgbouncer.CONFIG_DIR}/pgbouncer.ini", sub_path="pgbouncer.ini"),
                k8s.core.v1.VolumeMountArgs(name="userlist", mount_path=f"{pgbouncer.CONFIG_DIR}/userlist", read_only=True),
                pod.tmp_mount(),
            ],
        )
        containers = [container, *([_exporter(spec, users.metadata.name)] if exporting else [])]
        config_checksum = pulumi.Output.unsecret(pulumi.Output.all(ini, args.password, stats_password).apply(fingerprint))
        k8s.apps.v1.Deployment(
            f"{name}-deployment",
            metadata=metadata,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=spec.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations={"checksum/config": config_checksum}),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=pod.pod_security_context(POOLER_UID),
                        topology_spread_constraints=pod.topology_spread(selector, strict_nodes=args.protect),
                        containers=containers,
                        volumes=[
                            k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config.metadata.name)),
                            k8s.core.v1.VolumeArgs(
                                name="userlist",
                                secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=users.metadata.name, default_mode=0o400),
                            ),
                            pod.tmp_volume(),
                        ],
                    ),
                ),
            ),
            opts=child,
        )
        service = k8s.core.v1.Service(
            f"{name}-service",
            metadata=metadata,
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="postgres", port=SERVICE_PORT, target_port="pgbouncer"),
                    *([k8s.core.v1.ServicePortArgs(name="metrics", port=pgbouncer.METRICS_PORT, target_port="metrics")]
                      if exporting else []),
                ],
            ),
            opts=child,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{name}-pdb",
            metadata=metadata,
            spec=pod.disruption_budget_spec(selector),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-network-policy",
            metadata=metadata,
            spec=network.policy_spec(
                selector,
                ingress=[
                    network.ingress_rule(
                        [network.components_peer(identity.app_selector(), args.clients)], network.tcp(pgbouncer.PORT)
                    ),
                    *([network.ingress_rule([network.namespace_peer(args.metrics_namespace)], network.tcp(pgbouncer.METRICS_PORT))]
                      if exporting and args.metrics_namespace else []),
                ],
                egress=[network.egress_rule([network.pod_peer(args.server_pods)], network.tcp(SERVICE_PORT))],
            ),
            opts=child,
        )
        self.host = pulumi.Output.concat(service.metadata.name, ".", args.namespace, ".svc.cluster.local")
        self.client_egress = network.egress_rule([network.pod_peer(selector)], network.tcp(pgbouncer.PORT))
        self.register_outputs({"host": self.host})


def _exporter(spec: PgBouncerSpec, secret_name: pulumi.Input[str]) -> k8s.core.v1.ContainerArgs:
    """pgbouncer_exporter on the pod's loopback: the password comes from the Secret through
    libpq's PGPASSWORD, so the connection string in the pod spec holds none."""
    url = f"postgres://{pgbouncer.STATS_USER}@127.0.0.1:{pgbouncer.PORT}/pgbouncer?sslmode=disable"

    def probe(period: int) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/", port="metrics"), period_seconds=period)

    return k8s.core.v1.ContainerArgs(
        name="exporter",
        image=spec.exporter.image,
        image_pull_policy="IfNotPresent",
        args=[f"--pgBouncer.connectionString={url}", f"--web.listen-address=:{pgbouncer.METRICS_PORT}"],
        env=[k8s.core.v1.EnvVarArgs(
            name="PGPASSWORD",
            value_from=k8s.core.v1.EnvVarSourceArgs(
                secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=secret_name, key="stats-password")
            ),
        )],
        ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=pgbouncer.METRICS_PORT, protocol="TCP")],
        resources=pod.resource_requirements({"cpu": "10m", "memory": "16Mi"}, {"cpu": "100m", "memory": "64Mi"}),
        readiness_probe=probe(15),
        liveness_probe=probe(30),
        security_context=pod.container_security_context(POOLER_UID),
    )
