"""The Database component: PostgreSQL in the cluster, or the settings of a managed one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from components import network, pod
from components.annotations import SINGLETON
from components.backend.spec import ComputeSpec, ResourcesSpec
from components.database import init, replication, tuning, urls
from components.database.pooler import COMPONENT as POOLER
from components.database.pooler import PgBouncer, PgBouncerArgs
from components.database.rollout import RolloutGate
from components.database.spec import DatabaseSpec
from components.datastore import (
    IMAGE_UID,
    UID_SKIP,
    DataStore,
    ServerSet,
    StoreArgs,
    exporter,
    retained_claim,
)
from components.fingerprint import fingerprint
from components.naming import k8s_name
from components.quantities import parse_quantity

TYPE = "shipyard:data:Database"
COMPONENT = "database"
PORT = 5432
METRICS_PORT = 9187
DATA_DIR = "/var/lib/postgresql/data"
PGDATA = f"{DATA_DIR}/pgdata"
SINGLE_PRIMARY = "single primary: one writable PostgreSQL server; read replicas are `database.replica`"
REPLICA = "database-replica"
"""The component label of the standbys: the primary's Service must not pick them."""
REPLICA_NAME = "replica"
SINGLE_REPLICA = "one read replica, as `database.replica.replicas` asks; reads fall back to the primary's URL"
SEED_RESOURCES = ResourcesSpec(requests=ComputeSpec(cpu="100m", memory="128Mi"), limits=ComputeSpec(cpu="1", memory="512Mi"))
"""pg_basebackup streams files; it holds little in memory."""


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
        return k8s_name(self._object, REPLICA_NAME) if spec.mode == "in-cluster" and spec.replica.enabled else None

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
            read_env = env_at(self._host(k8s_name(self._object, REPLICA_NAME)))
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
        config_mounts = ["postgresql.conf", "pg_hba.conf", *([replication.ROLE_SCRIPT] if replicated else []), "init.sql"]
        primary = self._primary(
            service_name=governing.metadata.name,
            init_containers=[self._ensure_replication_role(config_mounts)] if replicated else [],
            containers=[
                self._server(config_mounts, spec.resources, initialises=True),
                self._exporter(),
            ],
            volumes=self._server_volumes(config.metadata.name, server_secret.metadata.name),
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
        self.migration_wait = [self._wait_until_ready(host)]
        if replicated:
            self._read_replicas(host, server_secret.metadata.name, storage, primary)

    def _read_replicas(
        self, primary_host: pulumi.Output[str], secret_name: pulumi.Output[str], storage: int, primary: pulumi.Resource
    ) -> None:
        """Hot standbys behind their own Service, each seeded from the primary and streaming from it."""
        spec = self._spec
        name = k8s_name(self._object, REPLICA_NAME)
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
            init_containers=[self._seed(primary_host, passfile)],
            containers=[self._server(["postgresql.conf", "pg_hba.conf"], resources, extra_mounts=[passfile]),
                        self._exporter()],
            volumes=[
                *self._server_volumes(config.metadata.name, secret_name,
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

    def _server_volumes(
        self, config_name: pulumi.Input[str], secret_name: pulumi.Input[str], secret_keys: list[str] | None = None
    ) -> list[k8s.core.v1.VolumeArgs]:
        return [
            # Executable, so the image's entrypoint runs init.sh in its own shell
            # instead of sourcing it into its own.
            k8s.core.v1.VolumeArgs(
                name="config",
                config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_name, default_mode=0o555),
            ),
            k8s.core.v1.VolumeArgs(
                name="secrets",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=secret_name, default_mode=0o400,
                    items=[k8s.core.v1.KeyToPathArgs(key=key, path=key) for key in secret_keys] if secret_keys else None,
                ),
            ),
            k8s.core.v1.VolumeArgs(name="run", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
            pod.tmp_volume(),
        ]

    def _exporter(self) -> k8s.core.v1.ContainerArgs:
        spec = self._spec
        return exporter(
            spec.exporter_image,
            {"DATA_SOURCE_URI": f"127.0.0.1:{PORT}/{spec.name}?sslmode=disable",
             "DATA_SOURCE_USER": init.MONITORING_ROLE,
             "DATA_SOURCE_PASS_FILE": f"{init.SECRETS_DIR}/monitor-password"},
            METRICS_PORT, "/", init.SECRETS_DIR,
        )

    def _step(self, name: str, script: str, env: dict[str, pulumi.Input[str]], mounts: list[k8s.core.v1.VolumeMountArgs],
              resources: ResourcesSpec) -> k8s.core.v1.ContainerArgs:
        return k8s.core.v1.ContainerArgs(
            name=name,
            image=self._spec.server_image,
            image_pull_policy="IfNotPresent",
            command=["sh", "-c", script],
            env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in env.items()],
            resources=pod.resource_requirements(resources.requests.model_dump(), resources.limits.model_dump()),
            security_context=pod.container_security_context(IMAGE_UID),
            volume_mounts=mounts,
        )

    def _ensure_replication_role(self, config_files: list[str]) -> k8s.core.v1.ContainerArgs:
        # The server's own resources: replaying an unclean stop's WAL takes its shared_buffers.
        return self._step(
            "replication-role", replication.ensure_role_script(), {"PGDATA": PGDATA},
            [_mount("data", DATA_DIR), *self._config_mounts(config_files), _mount("secrets", init.SECRETS_DIR, read_only=True),
             _mount("run", "/var/run/postgresql"), pod.tmp_mount()],
            self._spec.resources,
        )

    def _seed(self, primary_host: pulumi.Output[str], passfile: k8s.core.v1.VolumeMountArgs) -> k8s.core.v1.ContainerArgs:
        return self._step(
            "seed", replication.seed_script(),
            {"PGDATA": PGDATA, "PRIMARY_HOST": primary_host, "PRIMARY_PORT": str(PORT),
             "PGPASSFILE": f"{replication.PASSFILE_DIR}/pgpass"},
            [_mount("data", DATA_DIR), _mount("secrets", init.SECRETS_DIR, read_only=True), passfile, pod.tmp_mount()],
            SEED_RESOURCES,
        )

    @staticmethod
    def _config_mounts(files: list[str]) -> list[k8s.core.v1.VolumeMountArgs]:
        return [_mount("config", f"{init.CONFIG_DIR}/{name}", name) for name in files]

    def _wait_until_ready(self, host: pulumi.Output[str]) -> k8s.core.v1.ContainerArgs:
        """An init container that holds a migration until the server accepts connections.

        The engine already creates the migration after the StatefulSet is ready; this
        covers a server that restarts in between. The Job's deadline bounds the wait.
        """
        return k8s.core.v1.ContainerArgs(
            name="wait-for-database",
            image=self._spec.server_image,
            image_pull_policy="IfNotPresent",
            command=["sh", "-c", f'until pg_isready --host="$DATABASE_HOST" --port={PORT} --timeout=5; do sleep 2; done'],
            env=[k8s.core.v1.EnvVarArgs(name="DATABASE_HOST", value=host)],
            resources=pod.resource_requirements({"cpu": "10m", "memory": "16Mi"}, {"cpu": "100m", "memory": "64Mi"}),
            security_context=pod.container_security_context(IMAGE_UID),
        )

    def _server(
        self, config_files: list[str], resources: ResourcesSpec, *, initialises: bool = False,
        extra_mounts: Sequence[k8s.core.v1.VolumeMountArgs] = (),
    ) -> k8s.core.v1.ContainerArgs:
        """The server container; `initialises` a new volume with the image's entrypoint
        (a standby's volume is seeded from the primary instead)."""
        spec = self._spec
        ready = ["pg_isready", "--host=127.0.0.1", f"--port={PORT}", "--username=postgres"]
        probes = pod.exec_probes(ready, period_seconds=10, timeout_seconds=5)
        first_start = [
            k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value="postgres"),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_PASSWORD_FILE", value=f"{init.SECRETS_DIR}/admin-password"),
            k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=spec.name),
            k8s.core.v1.EnvVarArgs(name="APP_USER", value=spec.user),
        ] if initialises else []
        return k8s.core.v1.ContainerArgs(
            name="postgres",
            image=spec.server_image,
            image_pull_policy="IfNotPresent",
            args=["postgres", "-c", f"config_file={init.CONFIG_DIR}/postgresql.conf"],
            env=[*first_start, k8s.core.v1.EnvVarArgs(name="PGDATA", value=PGDATA)],
            ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=PORT, protocol="TCP")],
            resources=pod.resource_requirements(resources.requests.model_dump(), resources.limits.model_dump()),
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
                    exec_=k8s.core.v1.ExecActionArgs(command=["pg_ctl", "stop", "--mode=fast", "--wait", "--timeout=60"])
                )
            ),
            security_context=pod.container_security_context(IMAGE_UID),
            volume_mounts=[
                _mount("data", DATA_DIR),
                *self._config_mounts(config_files),
                *([_mount("config", "/docker-entrypoint-initdb.d/10-init.sh", "init.sh")] if initialises else []),
                _mount("secrets", init.SECRETS_DIR, read_only=True),
                _mount("run", "/var/run/postgresql"),
                pod.tmp_mount(),
                *extra_mounts,
            ],
        )


def _mount(name: str, path: str, sub_path: str | None = None, read_only: bool | None = None) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=name, mount_path=path, sub_path=sub_path, read_only=read_only)
