"""The Database component: PostgreSQL in the cluster, or the settings of a managed one."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from components import pod
from components.database import init, tuning, urls
from components.database.pooler import COMPONENT as POOLER
from components.database.pooler import PgBouncer, PgBouncerArgs
from components.database.rollout import RolloutGate
from components.database.spec import DatabaseSpec
from components.datastore import (
    IMAGE_UID,
    DataStore,
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
SINGLE_PRIMARY = "single primary: one writable PostgreSQL server; a second pod would need replication"


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
        passwords = {role: self._password(role) for role in ("admin", "app", "monitor")}
        host = self._host(self._object)

        def env_at(address: pulumi.Output[str]) -> pulumi.Output[dict[str, str]]:
            return pulumi.Output.all(address, passwords["app"]).apply(
                lambda v: urls.connection_env(user=spec.user, password=v[1], host=v[0], port=PORT, database=spec.name)
            )

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
            app_secret = self._app_secret(pulumi.Output.all(env_at(pooler.host), env_at(host)).apply(lambda v: urls.with_direct(*v)))
            self.migration_env = [
                k8s.core.v1.EnvVarArgs(
                    name=variable,
                    value_from=k8s.core.v1.EnvVarSourceArgs(
                        secret_key_ref=k8s.core.v1.SecretKeySelectorArgs(name=app_secret.metadata.name, key=key)
                    ),
                )
                for variable, key in urls.DIRECT_KEYS.items()
            ]
            self.client_egress.append(pooler.client_egress)
        else:
            self._app_secret(env_at(host))

        server_secret = k8s.core.v1.Secret(
            f"{self._name}-server-secret",
            metadata=self._metadata(k8s_name(self._object, "server")),
            type="Opaque",
            string_data={f"{role}-password": value for role, value in passwords.items()},
            opts=self._keep,
        )
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
            opts=self._child,
        )
        governing = self._services({"postgres": PORT}, METRICS_PORT)
        self._primary(
            service_name=governing.metadata.name,
            containers=[
                self._server(),
                exporter(
                    spec.exporter_image,
                    {"DATA_SOURCE_URI": f"127.0.0.1:{PORT}/{spec.name}?sslmode=disable",
                     "DATA_SOURCE_USER": init.MONITORING_ROLE,
                     "DATA_SOURCE_PASS_FILE": f"{init.SECRETS_DIR}/monitor-password"},
                    METRICS_PORT, "/", init.SECRETS_DIR,
                ),
            ],
            volumes=[
                # Executable, so the image's entrypoint runs init.sh in its own shell
                # instead of sourcing it into its own.
                k8s.core.v1.VolumeArgs(
                    name="config",
                    config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config.metadata.name, default_mode=0o555),
                ),
                k8s.core.v1.VolumeArgs(
                    name="secrets",
                    secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=server_secret.metadata.name, default_mode=0o400),
                ),
                k8s.core.v1.VolumeArgs(name="run", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
                pod.tmp_volume(),
            ],
            claims=[retained_claim(self._store.identity.labels(COMPONENT), spec.storage.size, spec.storage.storage_class)],
            grace_seconds=90,
            config_checksum=fingerprint(settings),
            singleton_reason=SINGLE_PRIMARY,
        )
        # Behind a pooler, the app's long-running pods reach the server only through it.
        front = [POOLER] if spec.pgbouncer.enabled else list(self._store.clients)
        self._server_policy(PORT, METRICS_PORT, [*front, *self._store.direct_clients])
        self.migration_wait = [self._wait_until_ready(host)]

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

    def _server(self) -> k8s.core.v1.ContainerArgs:
        spec = self._spec
        ready = ["pg_isready", "--host=127.0.0.1", f"--port={PORT}", "--username=postgres"]
        probes = pod.exec_probes(ready, period_seconds=10, timeout_seconds=5)

        def mount(name: str, path: str, sub_path: str | None = None, read_only: bool | None = None):
            return k8s.core.v1.VolumeMountArgs(name=name, mount_path=path, sub_path=sub_path, read_only=read_only)

        return k8s.core.v1.ContainerArgs(
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
                    exec_=k8s.core.v1.ExecActionArgs(command=["pg_ctl", "stop", "--mode=fast", "--wait", "--timeout=60"])
                )
            ),
            security_context=pod.container_security_context(IMAGE_UID),
            volume_mounts=[
                mount("data", DATA_DIR),
                mount("config", f"{init.CONFIG_DIR}/postgresql.conf", "postgresql.conf"),
                mount("config", f"{init.CONFIG_DIR}/init.sql", "init.sql"),
                mount("config", "/docker-entrypoint-initdb.d/10-init.sh", "init.sh"),
                mount("secrets", init.SECRETS_DIR, read_only=True),
                mount("run", "/var/run/postgresql"),
                pod.tmp_mount(),
            ],
        )
