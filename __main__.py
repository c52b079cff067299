"""The whole deployment of one stack, wired from its config.

Config is parsed and checked first: a mistake stops here, before any resource
exists. Everything after is wiring; the components hold the decisions.
"""

from functools import partial

import pulumi

import cluster_api
import stack_config
from components.addons import ClusterAddons, ClusterAddonsArgs
from components.backend import (
    SERVICE_PORT,
    Backend,
    BackendArgs,
    EnvSecret,
    roles,
)
from components.backup import DATABASE_CLIENTS as BACKUP_CLIENTS
from components.backup import ArchivedVolume, Backup, BackupArgs
from components.cache import Cache, CacheArgs
from components.database import REPLICA, Database, DatabaseArgs
from components.edge import Edge, EdgeArgs
from components.frontend import FRONTEND, frontend_env
from components.monitoring import (
    MONITORING_API,
    Monitoring,
    MonitoringArgs,
    ScrapeTarget,
    Watched,
)
from components.namespace import Namespace, NamespaceArgs
from components.naming import AppIdentity, k8s_name
from components.rabbitmq import RabbitMQ, RabbitMQArgs
from components.secrets import AppSecrets, AppSecretsArgs

stack = pulumi.get_stack()
raw_config, secret_keys = stack_config.current_config()
config = stack_config.load(raw_config, stack, secret_keys)
production = config.environment == "production"
app = config.app
identity = AppIdentity(name=app.name, instance=f"{app.name}-{stack}", version=app.version)

# The Prometheus operator's kinds exist once the stack installs it, or if the cluster has it
# (asked only when it matters; a cluster that cannot be asked gets the objects).
watching = config.monitoring.enabled
if watching and not config.addons.prometheus_stack.enabled and cluster_api.serves(MONITORING_API) is False:
    watching = False
    pulumi.log.warn(
        f"monitoring.enabled: the cluster does not serve {MONITORING_API} (no Prometheus operator) and "
        "addons.prometheusStack is off, so no ServiceMonitor, PrometheusRule or dashboard was created; "
        "install the operator, or set addons.prometheusStack.enabled"
    )

namespace = Namespace(
    "namespace",
    NamespaceArgs(
        name=config.namespace_for(stack),
        labels=identity.labels("namespace"),
        environment=config.environment,
        dns_namespace=config.network.dns_namespace,
        protect=production,
    ),
)

addons = ClusterAddons(
    "cluster-addons",
    ClusterAddonsArgs(
        spec=config.addons,
        controller=config.edge.controller,
        ingress_namespace=config.network.ingress_namespace,
        metrics_namespace=config.network.metrics_namespace,
        protect=production,
    ),
)

env_secrets, egress, migration_env, migration_wait, stores = [], [], [], [], []
database: Database | None = None

data_stores = [
    (Database, DatabaseArgs, config.database, "database"),
    (Cache, CacheArgs, config.cache, "cache"),
    (Cache, partial(CacheArgs, role="broker"), config.broker, "broker"),
    (RabbitMQ, RabbitMQArgs, config.rabbitmq, "rabbitmq"),
]
for store_type, store_args, spec, role in data_stores:
    if spec.enabled:
        store = store_type(
            f"{app.name}-{role}",
            store_args(
                namespace=namespace.name,
                identity=identity,
                spec=spec,
                clients=roles.store_clients(app),
                # The migration and the backups connect to the database itself; no other
                # store has such clients.
                direct_clients=[*roles.one_off(app), *(BACKUP_CLIENTS if spec.backup.enabled else ())]
                if role == "database" else (),
                metrics_namespace=config.network.metrics_namespace,
                protect=production,
            ),
        )
        stores.append(store)
        if role == "database":
            database = store
        env_secrets.append(store.env_secret)
        egress += store.client_egress
        migration_env += store.migration_env
        migration_wait += store.migration_wait

secret_files = []
if not config.secrets.empty:
    app_secrets = AppSecrets(
        f"{app.name}-secrets",
        AppSecretsArgs(
            namespace=namespace.name,
            object_name=k8s_name(app.name, "secrets"),
            labels=identity.labels("secrets"),
            values={k: v.get_secret_value() for k, v in config.secrets.values.items()},
            generated=config.secrets.generated,
            length=config.secrets.length,
            rotation=config.secrets.rotate,
            protect=production,
        ),
    )
    env_secrets.append(app_secrets.env_secret)
    secret_files.append((app_secrets.secret_name, k8s_name(app.name, "secrets")))
# Made outside the stack, so no checksum: a change to one rolls no pod by itself.
env_secrets += [EnvSecret(name=name, checksum="") for name in config.secrets.existing]
secret_files += [(name, name) for name in config.secrets.existing]
mount_path = config.secrets.mount_path

backend = Backend(
    app.name,
    BackendArgs(
        namespace=namespace.name,
        instance=identity.instance,
        app=app,
        network=config.network,
        secrets=env_secrets,
        # Each Secret in a directory of its own name: a mount cannot nest inside another.
        secret_files=[(name, f"{mount_path.rstrip('/')}/{directory}") for name, directory in secret_files] if mount_path else [],
        egress=egress,
        migration_env=migration_env,
        migration_wait=migration_wait,
        migration_after=stores,
        rollout_gate=database.rollout_gate if database else None,
        strict_spread=production,
        scraped=watching and config.monitoring.app.enabled,
        protect=production,
    ),
)
backup_watched = []
if database is not None and config.database.backup.enabled:
    backup = Backup(
        f"{app.name}-backup",
        BackupArgs(
            namespace=namespace.name,
            identity=identity,
            spec=config.database.backup,
            database=config.database.name,
            image=database.server_image,
            connection=database.connection,
            direct=database.migration_env,
            database_egress=database.client_egress,
            extensions=config.database.extensions,
            protect=production,
            # The claims as outputs of their objects: the engine makes them before the CronJob.
            volumes=[ArchivedVolume(name=name, claim=backend.volume_claims[name], run_as=app.run_as_user)
                     for name in config.database.backup.volumes],
        ),
    )
    backup_watched = backup.watched
watched_jobs = [*backup_watched, *backend.watched]

services = {"web": backend.service_name}
if config.frontend is not None:
    site = config.frontend
    frontend = Backend(
        f"{app.name}-{site.name}",
        BackendArgs(
            namespace=namespace.name,
            instance=identity.instance,
            # Objects of its own name; labels of the app's, with a component of its own that
            # none of the app's policies or data stores names.
            app=site.model_copy(update={"name": k8s_name(app.name, site.name)}),
            app_label=app.name,
            network=config.network.model_copy(update={"internet_egress": site.internet_egress}),
            strict_spread=production,
            web_component=FRONTEND,
            env_defaults=frontend_env(site),
        ),
    )
    services[FRONTEND] = frontend.service_name

certificates: list[str] = []
if config.edge.enabled:
    edge = Edge(
        f"{app.name}-edge",
        EdgeArgs(
            namespace=namespace.name,
            identity=identity,
            spec=config.edge,
            services=services,
            service_port=SERVICE_PORT,
            ingress_namespace=config.network.ingress_namespace,
            after=addons.edge,
        ),
    )
    pulumi.export("urls", edge.urls)
    certificates = edge.certificates

if watching:
    monitoring = config.monitoring
    in_cluster = [store for store in stores if store.has_exporter]
    Monitoring(
        f"{app.name}-monitoring",
        MonitoringArgs(
            namespace=namespace.name,
            identity=identity,
            spec=monitoring,
            targets=[
                *([ScrapeTarget(component=roles.WEB, port="http", path=monitoring.app.path)] if monitoring.app.enabled else []),
                *(ScrapeTarget(component=store.component, port="metrics") for store in in_cluster),
                *([ScrapeTarget(component="pooler", port="metrics")] if database and database.pooler_scraped else []),
                *([ScrapeTarget(component=REPLICA, port="metrics")] if database and database.replica_job else []),
            ],
            watched=Watched(
                app=app.name,
                namespace=config.namespace_for(stack),
                web_job=k8s_name(app.name),
                app_metrics=monitoring.app if monitoring.app.enabled else None,
                autoscaler=k8s_name(app.name) if app.replicas.autoscaled else None,
                database_job=next((s.object_name for s in in_cluster if s.component == "database"), None),
                pooler_job=k8s_name(database.object_name, "pooler") if database and database.pooler_scraped else None,
                replica_job=database.replica_job if database else None,
                redis_jobs=[(s.component, s.object_name) for s in in_cluster if s.component in ("cache", "broker")],
                rabbitmq_job=next((s.object_name for s in in_cluster if s.component == "rabbitmq"), None),
                scheduled=watched_jobs,
                certificates=certificates,
                thresholds=monitoring.thresholds,
            ),
            after=addons.monitoring,
        ),
    )

pulumi.export("namespace", namespace.name)
pulumi.export("service_url", backend.service_url)
pulumi.export("image", backend.image)
