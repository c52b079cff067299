"""The Database component: PostgreSQL in the cluster, or the settings of a managed one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import network, pod
from components.backend import EnvSecret
from components.backend.component import SINGLETON_ANNOTATION
from components.database import init, pgbouncer, tuning, urls
from components.database.spec import DatabaseSpec
from components.naming import AppIdentity, k8s_name
from components.quantities import parse_quantity

TYPE = "shipyard:data:Database"
COMPONENT = "database"
PORT = 5432
METRICS_PORT = 9187
POSTGRES_UID = 999
"""The official image's postgres user, which owns its directories."""
DATA_DIR = "/var/lib/postgresql/data"
UID_SKIP = {
    "checkov.io/skip1": "CKV_K8S_40=the official postgres and redis images run as their "
    "own user, UID 999, which owns the data directory they initialise"
}
SINGLE_PRIMARY = "single primary: one writable PostgreSQL server; a second pod would need replication"


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    spec: DatabaseSpec
    client_pods: dict[str, str]
    """Labels of the pods that may connect (the app's web, workers, migration, backups)."""
    metrics_namespace: str | None = None
    """Namespace of the metrics scraper, which may reach the exporter port."""
    protect: bool = False
    """Protect the StatefulSet, its volumes and the credentials (production)."""


POOLER = "pooler"
POOLER_UID = 10001


class Database(pulumi.ComponentResource):
    env_secret: EnvSecret
    client_egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]
    """What the app's pods need in their egress policy to reach the database."""
    migration_env: list[k8s.core.v1.EnvVarArgs]
    """Overrides for jobs that must bypass a pooler (migrations, backups)."""

    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._name, self._args = name, args
        self._keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self._object = k8s_name(args.identity.name, "db")
        self.migration_env = []
        if args.spec.mode == "external":
            self._external()
        else:
            self._in_cluster()
        self.register_outputs({})

    # -- helpers ---------------------------------------------------------------------

    def _metadata(self, name: str, annotations: dict[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=name,
            namespace=self._args.namespace,
            labels=self._args.identity.labels(COMPONENT),
            annotations=annotations or None,
        )

    def _password(self, role: str) -> pulumi.Output[str]:
        return random.RandomPassword(
            f"{self._name}-{role}-password", length=32, special=False, opts=self._keep
        ).result

    def _app_secret(self, env: pulumi.Input[dict[str, str]]) -> k8s.core.v1.Secret:
        secret = k8s.core.v1.Secret(
            f"{self._name}-app-secret",
            metadata=self._metadata(self._object),
            type="Opaque",
            string_data=env,
            opts=self._keep,
        )
        checksum = pulumi.Output.from_input(env).apply(
            lambda values: hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()
        )
        self.env_secret = EnvSecret(name=secret.metadata.name, checksum=pulumi.Output.secret(checksum))
        return secret

    # -- external --------------------------------------------------------------------

    def _external(self) -> None:
        url = self._args.spec.url.get_secret_value()  # type: ignore[union-attr]
        parts = urlsplit(url)
        env = urls.connection_env(
            user=parts.username or "",
            password=parts.password or "",
            host=parts.hostname or "",
            port=parts.port or PORT,
            database=parts.path.lstrip("/"),
        )
        self._app_secret(pulumi.Output.secret(env))
        # A managed server sits outside the cluster, often on a private address.
        self.client_egress = [
            network.egress_rule(
                [network.Peer(ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0"))], network.tcp(parts.port or PORT)
            )
        ]

    # -- in the cluster ---------------------------------------------------------------

    def _in_cluster(self) -> None:
        spec, identity = self._args.spec, self._args.identity
        passwords = {role: self._password(role) for role in ("admin", "app", "monitor")}
        host = pulumi.Output.concat(self._object, ".", self._args.namespace, ".svc.cluster.local")
        server_secret = k8s.core.v1.Secret(
            f"{self._name}-server-secret",
            metadata=self._metadata(k8s_name(self._object, "server")),
            type="Opaque",
            string_data={f"{role}-password": value for role, value in passwords.items()},
            opts=self._keep,
        )
        direct = pulumi.Output.all(host, passwords["app"]).apply(
            lambda v: urls.connection_env(user=spec.user, password=v[1], host=v[0], port=PORT, database=spec.name)
        )
        selector = identity.selector(COMPONENT)
        self.client_egress = [network.egress_rule([network.pod_peer(selector)], network.tcp(PORT))]
        if spec.pgbouncer.enabled:
            pooler_host = pulumi.Output.concat(k8s_name(self._object, POOLER), ".", self._args.namespace, ".svc.cluster.local")
            pooled = pulumi.Output.all(pooler_host, passwords["app"]).apply(
                lambda v: urls.connection_env(user=spec.user, password=v[1], host=v[0], port=PORT, database=spec.name)
            )
            app_secret = self._app_secret(pulumi.Output.secret(pulumi.Output.all(pooled, direct).apply(lambda v: urls.with_direct(*v))))
            self._pooler(passwords["app"], host)
            self.migration_env = [
                k8s.core.v1.EnvVarArgs(
                    name=variable,
                    value_from=k8s.core.v1.EnvVarSourceArgs(
                        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=app_secret.metadata.name, key="DATABASE_DIRECT_URL")
                    ),
                )
                for variable in ("DATABASE_URL", "SQLALCHEMY_DATABASE_URI")
            ]
            self.client_egress.append(
                network.egress_rule([network.pod_peer(identity.selector(POOLER))], network.tcp(pgbouncer.PORT))
            )
        else:
            self._app_secret(pulumi.Output.secret(direct))

        memory = int(parse_quantity(spec.resources.limits.memory))
        storage = int(parse_quantity(spec.storage.size))
        settings = tuning.settings_for(memory, storage, spec.settings_overrides())
        config = k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._metadata(k8s_name(self._object, "config")),
            data={
                "postgresql.conf": tuning.postgresql_conf(settings),
                "init.sql": init.init_sql(spec.extensions),
                "init.sh": init.init_script(),
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        headless = k8s.core.v1.Service(
            f"{self._name}-headless",
            metadata=self._metadata(k8s_name(self._object, "headless")),
            spec=k8s.core.v1.ServiceSpecArgs(
                cluster_ip="None",
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="postgres", port=PORT, target_port="postgres")],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.core.v1.Service(
            f"{self._name}-service",
            metadata=self._metadata(self._object),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="postgres", port=PORT, target_port="postgres"),
                    k8s.core.v1.ServicePortArgs(name="metrics", port=METRICS_PORT, target_port="metrics"),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._stateful_set(headless, config, server_secret, settings)
        self._network_policy()

    def _stateful_set(self, headless, config, server_secret, settings: dict[str, str]) -> None:
        spec, identity = self._args.spec, self._args.identity
        secrets_volume = k8s.core.v1.VolumeArgs(
            name="secrets",
            secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=server_secret.metadata.name, default_mode=0o400),
        )
        config_volume = k8s.core.v1.VolumeArgs(
            name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config.metadata.name)
        )
        mounts = [
            k8s.core.v1.VolumeMountArgs(name="data", mount_path=DATA_DIR),
            k8s.core.v1.VolumeMountArgs(name="config", mount_path=f"{init.CONFIG_DIR}/postgresql.conf", sub_path="postgresql.conf"),
            k8s.core.v1.VolumeMountArgs(name="config", mount_path=f"{init.CONFIG_DIR}/init.sql", sub_path="init.sql"),
            k8s.core.v1.VolumeMountArgs(name="config", mount_path="/docker-entrypoint-initdb.d/10-init.sh", sub_path="init.sh"),
            k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=init.SECRETS_DIR, read_only=True),
            k8s.core.v1.VolumeMountArgs(name="run", mount_path="/var/run/postgresql"),
            pod.tmp_mount(),
        ]
        ready = ["pg_isready", "--host=127.0.0.1", f"--port={PORT}", "--username=postgres"]
        probes = pod.exec_probes(ready, period_seconds=10, timeout_seconds=5)
        server = k8s.core.v1.ContainerArgs(
            name="postgres",
            image=spec.server_image,
            image_pull_policy="IfNotPresent",
            args=["postgres", "-c", f"config_file={init.CONFIG_DIR}/postgresql.conf"],
            env=[
                k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value="postgres"),
                k8s.core.v1.EnvVarArgs(name="POSTGRES_PASSWORD_FILE", value=f"{init.SECRETS_DIR}/admin-password"),
                k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=spec.name),
                k8s.core.v1.EnvVarArgs(name="APP_USER", value=spec.user),
                k8s.core.v1.EnvVarArgs(name="PGDATA", value=f"{DATA_DIR}/pgdata"),
            ],
            ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=PORT, protocol="TCP")],
            resources=pod.resource_requirements(spec.resources.requests.model_dump(), spec.resources.limits.model_dump()),
            # Recovery after an unclean stop can take minutes; give it ten before liveness counts.
            startup_probe=k8s.core.v1.ProbeArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=ready), period_seconds=10, failure_threshold=60, timeout_seconds=5
            ),
            readiness_probe=probes.readiness,
            liveness_probe=probes.liveness,
            # SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to
            # leave; a fast shutdown ends sessions and checkpoints before the grace runs out.
            lifecycle=k8s.core.v1.LifecycleArgs(
                pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                    exec_=k8s.core.v1.ExecActionArgs(command=["pg_ctl", "stop", "--mode=fast", "--wait", "--timeout=60"]),
                )
            ),
            security_context=pod.container_security_context(POSTGRES_UID),
            volume_mounts=mounts,
        )
        exporter = k8s.core.v1.ContainerArgs(
            name="exporter",
            image=spec.exporter_image,
            image_pull_policy="IfNotPresent",
            env=[
                k8s.core.v1.EnvVarArgs(name="DATA_SOURCE_URI", value=f"127.0.0.1:{PORT}/{spec.name}?sslmode=disable"),
                k8s.core.v1.EnvVarArgs(name="DATA_SOURCE_USER", value=init.MONITORING_ROLE),
                k8s.core.v1.EnvVarArgs(name="DATA_SOURCE_PASS_FILE", value=f"{init.SECRETS_DIR}/monitor-password"),
            ],
            ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT, protocol="TCP")],
            resources=pod.resource_requirements({"cpu": "10m", "memory": "32Mi"}, {"cpu": "200m", "memory": "128Mi"}),
            readiness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/", port="metrics"), period_seconds=15),
            liveness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/", port="metrics"), period_seconds=30),
            security_context=pod.container_security_context(POSTGRES_UID),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=init.SECRETS_DIR, read_only=True)],
        )
        labels = identity.labels(COMPONENT)
        checksum = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
        claim = k8s.core.v1.PersistentVolumeClaimArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                storage_class_name=spec.storage.storage_class,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": spec.storage.size}),
            ),
        )
        k8s.apps.v1.StatefulSet(
            f"{self._name}-statefulset",
            metadata=self._metadata(self._object, {**UID_SKIP, SINGLETON_ANNOTATION: SINGLE_PRIMARY}),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                replicas=1,
                service_name=headless.metadata.name,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=identity.selector(COMPONENT)),
                # Volumes outlive the StatefulSet and any scale-down: data goes only by hand.
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                volume_claim_templates=[claim],
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations={"checksum/config": checksum}),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=pod.pod_security_context(POSTGRES_UID),
                        termination_grace_period_seconds=90,
                        containers=[server, exporter],
                        volumes=[
                            config_volume,
                            secrets_volume,
                            k8s.core.v1.VolumeArgs(name="run", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
                            pod.tmp_volume(),
                        ],
                    ),
                ),
            ),
            opts=self._keep,
        )

    def _network_policy(self) -> None:
        args = self._args
        clients = [network.pod_peer(args.client_pods)]
        if args.spec.pgbouncer.enabled:
            clients.append(network.pod_peer(args.identity.selector(POOLER)))
        ingress = [network.ingress_rule(clients, network.tcp(PORT))]
        if args.metrics_namespace:
            ingress.append(
                network.ingress_rule([network.namespace_peer(args.metrics_namespace)], network.tcp(METRICS_PORT))
            )
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-network-policy",
            metadata=self._metadata(self._object),
            spec=network.policy_spec(args.identity.selector(COMPONENT), ingress=ingress, egress=[]),
            opts=pulumi.ResourceOptions(parent=self),
        )

    # -- the pooler ---------------------------------------------------------------------

    def _pooler(self, app_password: pulumi.Output[str], server_host: pulumi.Output[str]) -> None:
        spec, identity = self._args.spec, self._args.identity
        pooler = spec.pgbouncer
        name = k8s_name(self._object, POOLER)
        labels, selector = identity.labels(POOLER), identity.selector(POOLER)

        def metadata(annotations: dict[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=self._args.namespace, labels=labels, annotations=annotations)

        ini = server_host.apply(
            lambda host: pgbouncer.pgbouncer_ini(pooler, database=spec.name, server_host=host, server_port=PORT)
        )
        config = k8s.core.v1.ConfigMap(f"{self._name}-pooler-config", metadata=metadata(), data={"pgbouncer.ini": ini},
                                       opts=pulumi.ResourceOptions(parent=self))
        users = k8s.core.v1.Secret(
            f"{self._name}-pooler-secret", metadata=metadata(), type="Opaque",
            string_data={"userlist.txt": app_password.apply(lambda p: pgbouncer.userlist(spec.user, p))},
            opts=self._keep,
        )
        listening = k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="pgbouncer"), period_seconds=10)
        container = k8s.core.v1.ContainerArgs(
            name="pgbouncer",
            image=pooler.image,
            image_pull_policy="IfNotPresent",
            # The image's entrypoint writes its own config; ours is mounted, so run the server.
            command=["pgbouncer", f"{pgbouncer.CONFIG_DIR}/pgbouncer.ini"],
            ports=[k8s.core.v1.ContainerPortArgs(name="pgbouncer", container_port=pgbouncer.PORT, protocol="TCP")],
            resources=pod.resource_requirements({"cpu": "50m", "memory": "32Mi"}, {"cpu": "500m", "memory": "128Mi"}),
            readiness_probe=listening,
            liveness_probe=k8s.core.v1.ProbeArgs(tcp_socket=k8s.core.v1.TCPSocketActionArgs(port="pgbouncer"), period_seconds=20),
            security_context=pod.container_security_context(POOLER_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="config", mount_path=f"{pgbouncer.CONFIG_DIR}/pgbouncer.ini", sub_path="pgbouncer.ini"),
                k8s.core.v1.VolumeMountArgs(name="userlist", mount_path=f"{pgbouncer.CONFIG_DIR}/userlist", read_only=True),
                pod.tmp_mount(),
            ],
        )
        checksum = pulumi.Output.all(ini, app_password).apply(
            lambda v: hashlib.sha256(json.dumps(v).encode()).hexdigest()[:16]
        )
        k8s.apps.v1.Deployment(
            f"{self._name}-pooler",
            metadata=metadata(),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=pooler.replicas,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector),
                strategy=k8s.apps.v1.DeploymentStrategyArgs(
                    type="RollingUpdate",
                    rolling_update=k8s.apps.v1.RollingUpdateDeploymentArgs(max_unavailable=0, max_surge=1),
                ),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations={"checksum/config": pulumi.Output.unsecret(checksum)}),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=pod.pod_security_context(POOLER_UID),
                        topology_spread_constraints=pod.topology_spread(selector, strict_nodes=self._args.protect),
                        containers=[container],
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
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.core.v1.Service(
            f"{self._name}-pooler-service",
            metadata=metadata(),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="postgres", port=PORT, target_port="pgbouncer")],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-pooler-pdb",
            metadata=metadata(),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=1, selector=k8s.meta.v1.LabelSelectorArgs(match_labels=selector)
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-pooler-network-policy",
            metadata=metadata(),
            spec=network.policy_spec(
                selector,
                ingress=[network.ingress_rule([network.pod_peer(self._args.client_pods)], network.tcp(pgbouncer.PORT))],
                egress=[network.egress_rule([network.pod_peer(identity.selector(COMPONENT))], network.tcp(PORT))],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
