"""The Database component: PostgreSQL in the cluster, or the settings of a managed one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from components import network, pod
from components.annotations import SINGLETON
from components.database import containers, init, replication, tuning, urls
from components.database.containers import METRICS_PORT, PORT
from components.database.pooler import COMPONENT as POOLER
from components.database.pooler import PgBouncer, PgBouncerArgs
from components.database.rollout import RolloutGate
from components.database.spec import DatabaseSpec
from components.datastore import (
    UID_SKIP,
    DataStore,
    ServerSet,
    StoreArgs,
    retained_claim,
)
from components.fingerprint import fingerprint
from components.naming import k8s_name
from components.quantities import parse_quantity

TYPE = "shipyard:data:Database"
COMPONENT = "database"
SINGLE_PRIMARY = "single primary: one writable PostgreSQL server; read replicas are `database.replica`"
REPLICA = "database-replica"
"""The component label of the standbys: the primary's Service must not pick them."""
REPLICA_NAME = "replica"
SINGLE_REPLICA = "one read replica, as `database.replica.replicas` asks; reads fall back to the primary's URL"


@dataclass(frozen=True, kw_only=True)
class DatabaseArgs(StoreArgs):
    spec: DatabaseSpec


class Database(DataStore):
    def __init__(self, name: str, args: DatabaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, args, component=COMPONENT, object_name=k8s_name(args.identity.name, "db"), opts=opts)
        self._spec = args.spec
        self._build(args.spec.mode)

    @property
    def connection(self) -> list[k8s.core.v1.EnvFromSourceArgs]:
        """The app's Secret of this database, as envFrom: DATABASE_URL and libpq's variables.
        Jobs that need the server itself add `migration_env` over it."""
        return [k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=self.env_secret.name))]

    @property
    def pooler_scraped(self) -> bool:
        """Whether PgBouncer runs with its metrics exporter."""
        spec = self._spec
        return spec.mode == "in-cluster" and spec.pgbouncer.enabled and spec.pgbouncer.exporter.enabled

    @property
    def replica_job(self) -> str | None:
        """The read replicas' Service (their scrape job), when the database has standbys."""
        spec = self._spec
        return self._replica_object if spec.mode == "in-cluster" and spec.replica.enabled else None

    @property
    def _replica_object(self) -> str:
        """The name of the standbys' objects: their Services, StatefulSet and config."""
        return k8s_name(self._object, REPLICA_NAME)

    @property
    def server_image(self) -> str:
        """The server's image, whose client tools (psql, pg_dump) match its version."""
        return self._spec.server_image

    @property
    def rollout_gate(self) -> RolloutGate:
        """Holds app pods until their migration has run, whoever applies the objects."""
        return RolloutGate(image=self._spec.server_image, connection=self.connection, direct=self.migration_env)

    def _external(self) -> None:
        parts = urlsplit(self._spec.url.get_secret_value())  # type: ignore[union-attr]
        self._app_secret(
            urls.connection_env(user=parts.username or "", password=parts.password or "", host=parts.hostname or "",
                                port=parts.port or PORT, database=parts.path.lstrip("/"))
        )
        self._external_egress(parts.port or PORT)

    def _in_cluster(self) -> None:
        spec = self._spec
        replicated = spec.replica.enabled
        roles = ("admin", "app", "monitor", *(["replication"] if replicated else []))
        passwords = {role: self._password(role) for role in roles}
        host = self._host(self._object)

        def env_at(address: pulumi.Output[str]) -> pulumi.Output[dict[str, str]]:
            return pulumi.Output.all(address, passwords["app"]).apply(
                lambda v: urls.connection_env(user=spec.user, password=v[1], host=v[0], port=PORT, database=spec.name)
            )

        app_env = env_at(host)
        if spec.pgbouncer.enabled:
            pooler = PgBouncer(
                f"{self._name}-pgbouncer",
                PgBouncerArgs(
                    namespace=self._store.namespace, identity=self._store.identity,
                    object_name=k8s_name(self._object, POOLER), spec=spec.pgbouncer, database=spec.name,
                    user=spec.user, password=passwords["app"], server_host=host, server_pods=self.selector,
                    clients=self._store.clients, protect=self._store.protect,
                    stats_password=self._password("pooler-stats") if spec.pgbouncer.exporter.enabled else None,
                    metrics_namespace=self._store.metrics_namespace,
                ),
                opts=self._child,
            )
            app_env = pulumi.Output.all(env_at(pooler.host), app_env).apply(lambda v: urls.with_direct(*v))
            self.client_egress.append(pooler.client_egress)
        if replicated:
            read_env = env_at(self._host(self._replica_object))
            app_env = pulumi.Output.all(app_env, read_env).apply(lambda v: urls.with_read(*v))
        app_secret = self._app_secret(app_env)
        if spec.pgbouncer.enabled:
            self.migration_env = [
                k8s.core.v1.EnvVarArgs(
                    name=variable,
                    value_from=k8s.core.v1.EnvVarSourceArgs(
                        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=app_secret.metadata.name, key=key)
                    ),
                )
                for variable, key in urls.DIRECT_KEYS.items()
            ]

        server_secret = k8s.core.v1.Secret(
            f"{self._name}-server-secret",
            metadata=self._metadata(k8s_name(self._object, "server")),
            type="Opaque",
            string_data={f"{role}-password": value for role, value in passwords.items()},
            opts=self._keep,
        )
        memory = int(parse_quantity(spec.resources.limits.memory))
        storage = int(parse_quantity(spec.storage.size))
        settings = tuning.settings_for(memory, storage, spec.settings_overrides(), replicated=replicated)
        files = {
            "postgresql.conf": tuning.postgresql_conf(settings, {"hba_file": replication.HBA_FILE}),
            "pg_hba.conf": replication.pg_hba_conf(replication=replicated),
        }
        scripts = {
            "init.sql": init.init_sql(spec.extensions),
            "init.sh": init.init_script(replication_role=replication.ROLE_SCRIPT if replicated else None),
            **({replication.ROLE_SCRIPT: replication.role_script()} if replicated else {}),
        }
        config = k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._metadata(k8s_name(self._object, "config")),
            data={**files, **scripts},
            opts=self._child,
        )
        _, governing = self._services({"postgres": PORT}, METRICS_PORT)
        config_files = ["postgresql.conf", "pg_hba.conf", *([replication.ROLE_SCRIPT] if replicated else []), "init.sql"]
        primary = self._primary(
            service_name=governing.metadata.name,
            init_containers=[containers.ensure_replication_role(spec, config_files)] if replicated else [],
            containers=[
                containers.server(spec, config_files, spec.resources, initialises=True),
                containers.metrics_exporter(spec),
            ],
            volumes=containers.server_volumes(config.metadata.name, server_secret.metadata.name),
            claims=[retained_claim(self._store.identity.labels(COMPONENT), spec.storage.size, spec.storage.storage_class)],
            grace_seconds=90,
            # The files the server reads at start; the scripts run only on a new volume.
            config_checksum=fingerprint(files),
            singleton_reason=SINGLE_PRIMARY,
        )
        # Behind a pooler, the app's long-running pods reach the server only through it.
        front = [POOLER] if spec.pgbouncer.enabled else list(self._store.clients)
        standbys = [REPLICA] if replicated else []
        self._server_policy(PORT, METRICS_PORT, [*front, *self._store.direct_clients, *standbys])
        self.migration_wait = [containers.wait_until_ready(spec, host)]
        if replicated:
            self._read_replicas(host, server_secret.metadata.name, storage, primary)

    def _read_replicas(
        self, primary_host: pulumi.Output[str], secret_name: pulumi.Output[str], storage: int, primary: pulumi.Resource
    ) -> None:
        """Hot standbys behind their own Service, each seeded from the primary and streaming from it."""
        spec = self._spec
        name = self._replica_object
        resources = spec.replica_resources
        settings = tuning.settings_for(
            int(parse_quantity(resources.limits.memory)), storage, spec.settings_overrides(), replicated=True
        )
        files = primary_host.apply(lambda host: {
            "postgresql.conf": tuning.postgresql_conf(
                settings, {"hba_file": replication.HBA_FILE, **replication.standby_settings(host, PORT, name)}
            ),
            "pg_hba.conf": replication.pg_hba_conf(replication=False),
        })
        config = k8s.core.v1.ConfigMap(
            f"{self._name}-replica-config",
            metadata=self._metadata(k8s_name(name, "config"), component=REPLICA),
            data=files,
            opts=self._child,
        )
        _, governing = self._services({"postgres": PORT}, METRICS_PORT, component=REPLICA, object_name=name)
        selector = self._store.identity.selector(REPLICA)
        replicas = spec.replica.replicas
        annotations = {**UID_SKIP, **({SINGLETON: SINGLE_REPLICA} if replicas == 1 else {})}
        passfile = k8s.core.v1.VolumeMountArgs(name="replication", mount_path=replication.PASSFILE_DIR)
        self._server_set(
            ServerSet(resource="replica-statefulset", object_name=name, component=REPLICA, replicas=replicas,
                      annotations=annotations),
            service_name=governing.metadata.name,
            init_containers=[containers.seed(spec, primary_host, passfile)],
            containers=[containers.server(spec, ["postgresql.conf", "pg_hba.conf"], resources, extra_mounts=[passfile]),
                        containers.metrics_exporter(spec)],
            volumes=[
                *containers.server_volumes(config.metadata.name, secret_name,
                                           secret_keys=[replication.PASSWORD_KEY, "monitor-password"]),
                k8s.core.v1.VolumeArgs(
                    name="replication", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(medium="Memory", size_limit="1Mi")
                ),
            ],
            claims=[retained_claim(self._store.identity.labels(REPLICA), spec.storage.size, spec.storage.storage_class)],
            grace_seconds=90,
            config_checksum=fingerprint(settings),
            spread=pod.topology_spread(selector, strict_nodes=False),
            # Seeding needs the primary up, and with the replication role in place.
            depends_on=[primary],
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-replica-pdb",
            metadata=self._metadata(name, component=REPLICA),
            spec=pod.disruption_budget_spec(selector),
            opts=self._child,
        )
        # The app reads from the standbys; they reach the primary and nothing else.
        ingress = [network.ingress_rule(
            [network.components_peer(self._store.identity.app_selector(), self._store.clients)], network.tcp(PORT)
        )]
        if self._store.metrics_namespace:
            ingress.append(network.ingress_rule([network.namespace_peer(self._store.metrics_namespace)],
                                                network.tcp(METRICS_PORT)))
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-replica-network-policy",
            metadata=self._metadata(name, component=REPLICA),
            spec=network.policy_spec(
                selector, ingress=ingress, egress=[network.egress_rule([network.pod_peer(self.selector)], network.tcp(PORT))]
            ),
            opts=self._child,
        )
        self.client_egress.append(network.egress_rule([network.pod_peer(selector)], network.tcp(PORT)))
