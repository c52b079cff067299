"""components/database/component.py: the objects of an in-cluster and an external database."""

from __future__ import annotations

import pytest

from components.database import Database, DatabaseArgs, DatabaseSpec
from components.naming import AppIdentity
from tests.conftest import run_components
from tests.test_stack_config import problems

IDENTITY = AppIdentity(name="shop", instance="shop-test")
APP_PODS = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop-test"}
CLIENTS = ["web", "worker-celery"]
DIRECT = ["migration"]


def components(*names: str) -> dict:
    """The pod selector of a peer that admits exactly these components of the app."""
    return {"matchLabels": APP_PODS,
            "matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In", "values": sorted(names)}]}


def database(protect: bool = False, metrics_namespace: str | None = None, **fields):
    spec = DatabaseSpec.model_validate({"enabled": True, **fields})
    return run_components(
        lambda: Database("db", DatabaseArgs(namespace="shop", identity=IDENTITY, spec=spec, clients=CLIENTS,
                                            direct_clients=DIRECT, protect=protect, metrics_namespace=metrics_namespace))
    )


@pytest.fixture(scope="module")
def default():
    return database()


def containers(recording):
    return {c["name"]: c for c in recording.one("StatefulSet")["spec"]["template"]["spec"]["containers"]}


def test_one_primary_with_a_retained_volume(default):
    spec = default.one("StatefulSet", "shop-db")["spec"]
    assert spec["replicas"] == 1
    assert spec["serviceName"] == "shop-db-headless"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    [claim] = spec["volumeClaimTemplates"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert "storageClassName" not in claim["spec"]


def test_can_configure_storage():
    claim = database(storage={"size": "100Gi", "storageClass": "fast-ssd"}).one("StatefulSet")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "100Gi"
    assert claim["spec"]["storageClassName"] == "fast-ssd"


def test_headless_and_cluster_ip_services(default):
    assert default.one("Service", "shop-db-headless")["spec"]["clusterIP"] == "None"
    ports = {p["name"]: p["port"] for p in default.one("Service", "shop-db")["spec"]["ports"]}
    assert ports == {"postgres": 5432, "metrics": 9187}


def test_server_is_configured_from_files_never_env_passwords(default):
    server = containers(default)["postgres"]
    assert server["args"] == ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres/admin-password"
    assert "POSTGRES_PASSWORD" not in env
    mounts = {m["mountPath"] for m in server["volumeMounts"]}
    assert {"/docker-entrypoint-initdb.d/10-init.sh", "/etc/postgresql/init.sql", "/var/run/postgresql", "/tmp"} <= mounts


def test_probes_use_pg_isready_and_shutdown_is_fast_and_graceful(default):
    server = containers(default)["postgres"]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert server[probe]["exec"]["command"][0] == "pg_isready"
    assert server["lifecycle"]["preStop"]["exec"]["command"][:3] == ["pg_ctl", "stop", "--mode=fast"]
    assert default.one("StatefulSet")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 60


def test_runs_restricted_as_the_image_user_with_the_skip_explained(default):
    stateful_set = default.one("StatefulSet")
    pod = stateful_set["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 999 and pod["securityContext"]["runAsNonRoot"] is True
    for container in pod["containers"]:
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    annotations = stateful_set["metadata"]["annotations"]
    assert annotations["checkov.io/skip1"].startswith("CKV_K8S_40=")
    assert annotations["shipyard.dev/singleton"].startswith("single primary")


def test_exporter_sidecar_uses_the_monitoring_role(default):
    exporter = containers(default)["exporter"]
    env = {e["name"]: e["value"] for e in exporter["env"]}
    assert env["DATA_SOURCE_USER"] == "monitoring"
    assert env["DATA_SOURCE_PASS_FILE"] == "/run/secrets/postgres/monitor-password"
    assert exporter["ports"] == [{"name": "metrics", "containerPort": 9187, "protocol": "TCP"}]


def test_credentials_are_generated_and_kept_secret(default):
    passwords = [r for r in default.resources if r.type == "random:index/randomPassword:RandomPassword"]
    assert sorted(r.name for r in passwords) == ["db-admin-password", "db-app-password", "db-monitor-password"]
    assert all(r.inputs["special"] is False and r.inputs["length"] >= 32 for r in passwords)
    [app] = default.find("Secret", "shop-db")
    assert set(app.inputs["stringData"]) >= {"DATABASE_URL", "SQLALCHEMY_DATABASE_URI", "ASYNC_DATABASE_URL", "PGPASSWORD"}
    assert app.secret_paths == ["stringData"]
    assert app.inputs["stringData"]["DATABASE_URL"].startswith("postgresql://app:")
    assert "@shop-db.shop.svc.cluster.local:5432/app" in app.inputs["stringData"]["DATABASE_URL"]


def test_unprotected_by_default(default):
    assert not any(r.protect for r in default.resources)


def test_protected_state_in_production():
    recording = database(protect=True)
    kept = [r for r in recording.resources if r.custom and (r.kind in ("StatefulSet", "Secret") or r.type.startswith("random:"))]
    assert len(kept) == 6
    assert all(r.protect and r.retain_on_delete for r in kept)
    assert not any(r.protect for r in recording.find("ConfigMap"))


def test_only_the_named_clients_reach_the_server(default):
    policy = default.one("NetworkPolicy", "shop-db")["spec"]
    # The server opens no connection: egress is closed by policyTypes, with no empty list
    # that the API server would drop (and every apply would then put back).
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "egress" not in policy
    [rule] = policy["ingress"]
    assert rule["from"] == [{"podSelector": components(*CLIENTS, *DIRECT)}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_no_scraper_unless_named(default):
    assert len(default.one("NetworkPolicy", "shop-db")["spec"]["ingress"]) == 1


def test_can_let_the_scraper_reach_the_exporter():
    rules = database(metrics_namespace="monitoring").one("NetworkPolicy")["spec"]["ingress"]
    assert rules[1]["ports"] == [{"protocol": "TCP", "port": 9187}]


def test_config_map_holds_the_rendered_files(default):
    data = default.one("ConfigMap", "shop-db-config")["data"]
    assert set(data) == {"postgresql.conf", "pg_hba.conf", "init.sql", "init.sh"}
    assert "hba_file = '/etc/postgresql/pg_hba.conf'" in data["postgresql.conf"]
    assert "replication" not in data["pg_hba.conf"] and "wal_keep_size" not in data["postgresql.conf"]
    assert "shared_preload_libraries = 'pg_stat_statements'" in data["postgresql.conf"]
    assert 'CREATE EXTENSION IF NOT EXISTS "pg_stat_statements";' in data["init.sql"]


def test_external_mode_makes_only_the_secret():
    recording = database(mode="external", url="postgresql://ops:s3cret@prod.abc.rds.amazonaws.com:6543/shop")
    assert recording.find("StatefulSet") == [] and recording.find("Service") == []
    [secret] = recording.find("Secret", "shop-db")
    env = secret.inputs["stringData"]
    assert env["DATABASE_URL"] == "postgresql://ops:s3cret@prod.abc.rds.amazonaws.com:6543/shop"
    assert env["ASYNC_DATABASE_URL"].startswith("postgresql+asyncpg://ops:s3cret@")
    assert (env["PGHOST"], env["PGPORT"], env["PGDATABASE"]) == ("prod.abc.rds.amazonaws.com", "6543", "shop")
    assert secret.secret_paths == ["stringData"]


# -- PgBouncer ----------------------------------------------------------------------------


def test_no_pooler_by_default(default):
    assert default.find("Deployment") == []
    assert "DATABASE_DIRECT_URL" not in default.one("Secret", "shop-db")["stringData"]


@pytest.fixture(scope="module")
def pooled():
    return database(protect=True, pgbouncer={"enabled": True, "replicas": 3, "defaultPoolSize": 10})


def test_pooler_runs_redundantly_from_its_own_config(pooled):
    deployment = pooled.one("Deployment", "shop-db-pooler")
    assert deployment["spec"]["replicas"] == 3
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["pgbouncer", "/etc/pgbouncer/pgbouncer.ini"]
    assert container["securityContext"]["runAsUser"] == 10001
    assert pooled.one("PodDisruptionBudget", "shop-db-pooler")["spec"]["maxUnavailable"] == 1
    ini = pooled.one("ConfigMap", "shop-db-pooler")["data"]["pgbouncer.ini"]
    assert "app = host=shop-db.shop.svc.cluster.local port=5432 dbname=app" in ini
    assert "pool_mode = transaction" in ini and "default_pool_size = 10" in ini


def test_apps_get_the_pooler_and_migrations_the_direct_url(pooled):
    env = pooled.one("Secret", "shop-db")["stringData"]
    assert "@shop-db-pooler.shop.svc.cluster.local:5432/" in env["DATABASE_URL"]
    assert "@shop-db.shop.svc.cluster.local:5432/" in env["DATABASE_DIRECT_URL"]
    assert pooled.one("Service", "shop-db-pooler")["spec"]["ports"] == [
        {"name": "postgres", "port": 5432, "targetPort": "pgbouncer"}
    ]


def test_the_server_admits_the_pooler_and_the_pooler_admits_the_app(pooled):
    [rule] = pooled.one("NetworkPolicy", "shop-db")["spec"]["ingress"]
    # Behind the pooler, the app's long-running pods reach the server only through it.
    assert rule["from"] == [{"podSelector": components("pooler", *DIRECT)}]
    pooler_policy = pooled.one("NetworkPolicy", "shop-db-pooler")["spec"]
    assert pooler_policy["ingress"][0]["from"] == [{"podSelector": components(*CLIENTS)}]
    assert pooler_policy["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 6432}]
    assert pooler_policy["egress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_pooler_userlist_is_a_protected_secret(pooled):
    [userlist] = pooled.find("Secret", "shop-db-pooler")
    assert userlist.protect and userlist.secret_paths == ["stringData"]
    assert userlist.inputs["stringData"]["userlist.txt"].startswith('"app" "')


def test_migrations_bypass_the_pooler():
    spec = DatabaseSpec.model_validate({"enabled": True, "pgbouncer": {"enabled": True}})

    def program():
        import pulumi

        db = Database("db", DatabaseArgs(namespace="shop", identity=IDENTITY, spec=spec, clients=CLIENTS))
        pulumi.export("migration_env", [{"name": e.name, "key": e.value_from.secret_key_ref.key} for e in db.migration_env])

    outputs = run_components(program).outputs["migration_env"]
    assert outputs == [{"name": "DATABASE_URL", "key": "DATABASE_DIRECT_URL"},
                       {"name": "SQLALCHEMY_DATABASE_URI", "key": "DATABASE_DIRECT_URL"},
                       {"name": "PGHOST", "key": "DATABASE_DIRECT_HOST"},
                       {"name": "PGPORT", "key": "DATABASE_DIRECT_PORT"}]


def test_init_script_is_mounted_executable(default):
    # The entrypoint sources a script it cannot execute, which would leak its shell options.
    volumes = {v["name"]: v for v in default.one("StatefulSet")["spec"]["template"]["spec"]["volumes"]}
    assert volumes["config"]["configMap"]["defaultMode"] == 0o555


def test_no_pooler_exporter_unless_asked():
    recording = database(pgbouncer={"enabled": True})
    [container] = recording.one("Deployment", "shop-db-pooler")["spec"]["template"]["spec"]["containers"]
    assert container["name"] == "pgbouncer"
    assert "stats_users" not in recording.one("ConfigMap", "shop-db-pooler")["data"]["pgbouncer.ini"]


def test_the_pooler_exporter_reads_the_admin_console_as_a_stats_user():
    recording = database(metrics_namespace="monitoring", pgbouncer={"enabled": True, "exporter": {"enabled": True}})
    pod = recording.one("Deployment", "shop-db-pooler")["spec"]["template"]["spec"]
    exporter = {c["name"]: c for c in pod["containers"]}["exporter"]
    assert "--pgBouncer.connectionString=postgres://shipyard_stats@127.0.0.1:6432/pgbouncer?sslmode=disable" in exporter["args"]
    assert exporter["env"] == [{"name": "PGPASSWORD", "valueFrom": {"secretKeyRef": {"name": "shop-db-pooler", "key": "stats-password"}}}]
    assert exporter["securityContext"]["readOnlyRootFilesystem"] and exporter["securityContext"]["runAsNonRoot"]
    assert "stats_users = shipyard_stats" in recording.one("ConfigMap", "shop-db-pooler")["data"]["pgbouncer.ini"]
    secret = recording.one("Secret", "shop-db-pooler")["stringData"]
    assert secret["userlist.txt"].splitlines()[1] == f'"shipyard_stats" "{secret["stats-password"]}"'
    ports = recording.one("Service", "shop-db-pooler")["spec"]["ports"]
    assert {"name": "metrics", "port": 9127, "targetPort": "metrics"} in ports
    ingress = recording.one("NetworkPolicy", "shop-db-pooler")["spec"]["ingress"]
    assert ingress[1]["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "monitoring"}
    assert ingress[1]["ports"] == [{"protocol": "TCP", "port": 9127}]


def test_the_pooler_exporter_image_needs_a_digest_in_production():
    found = problems(environment="production",
                     database={"enabled": True, "pgbouncer": {"enabled": True, "exporter": {"enabled": True}}})
    assert any(p.startswith("database.pgbouncer.exporter.image (quay.io/prometheuscommunity/pgbouncer-exporter:v0.11.0) "
                            "must carry a digest in production") for p in found), found


# -- Read replicas --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def replicated():
    return database(protect=True, metrics_namespace="monitoring", replica={"enabled": True, "replicas": 2},
                    pgbouncer={"enabled": True})


def test_replicas_are_their_own_statefulset_behind_their_own_service(replicated):
    standby = replicated.one("StatefulSet", "shop-db-replica")
    labels = standby["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "database-replica" and standby["spec"]["replicas"] == 2
    assert standby["spec"]["serviceName"] == "shop-db-replica-headless"
    # The primary's Services pick the primary only: a write never lands on a standby.
    for name in ("shop-db", "shop-db-headless"):
        assert replicated.one("Service", name)["spec"]["selector"]["app.kubernetes.io/component"] == "database"
    assert replicated.one("Service", "shop-db-replica")["spec"]["selector"]["app.kubernetes.io/component"] == "database-replica"
    assert replicated.one("PodDisruptionBudget", "shop-db-replica")["spec"]["maxUnavailable"] == 1
    assert standby["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert "shipyard.dev/singleton" not in standby["metadata"].get("annotations", {})


def test_replicas_are_protected_like_the_primary(replicated):
    [standby] = [r for r in replicated.resources if r.type == "kubernetes:apps/v1:StatefulSet" and r.name == "db-replica-statefulset"]
    assert standby.protect and standby.retain_on_delete


def test_a_standby_is_seeded_then_streams_with_no_password_in_its_files(replicated):
    standby = replicated.one("StatefulSet", "shop-db-replica")
    [seed] = standby["spec"]["template"]["spec"]["initContainers"]
    env = {e["name"]: e["value"] for e in seed["env"]}
    assert "pg_basebackup" in seed["command"][2] and env["PRIMARY_HOST"] == "shop-db.shop.svc.cluster.local"
    conf = replicated.one("ConfigMap", "shop-db-replica-config")["data"]["postgresql.conf"]
    assert ("primary_conninfo = 'host=shop-db.shop.svc.cluster.local port=5432 user=replicator "
            "passfile=/run/replication/pgpass application_name=shop-db-replica'") in conf
    assert "password" not in conf.lower()
    # Only the passwords a standby uses are in its pod: not the superuser's, not the app's.
    [secrets] = [v for v in standby["spec"]["template"]["spec"]["volumes"] if v["name"] == "secrets"]
    assert sorted(i["key"] for i in secrets["secret"]["items"]) == ["monitor-password", "replication-password"]
    server_env = {e["name"] for e in [c for c in standby["spec"]["template"]["spec"]["containers"] if c["name"] == "postgres"][0]["env"]}
    assert server_env == {"PGDATA"}


def test_the_primary_admits_replication_from_the_standbys_only(replicated):
    primary = replicated.one("ConfigMap", "shop-db-config")["data"]
    assert "host    replication  replicator  all      scram-sha-256" in primary["pg_hba.conf"]
    assert "wal_keep_size = '1280MB'" in primary["postgresql.conf"]
    [role_step] = replicated.one("StatefulSet", "shop-db")["spec"]["template"]["spec"]["initContainers"]
    assert role_step["name"] == "replication-role" and "postgres --single" in role_step["command"][2]
    ingress = replicated.one("NetworkPolicy", "shop-db")["spec"]["ingress"][0]
    assert ingress["from"] == [{"podSelector": components("pooler", "migration", "database-replica")}]
    assert "replication-password" in replicated.one("Secret", "shop-db-server")["stringData"]


def test_the_standbys_admit_the_app_and_reach_only_the_primary(replicated):
    policy = replicated.one("NetworkPolicy", "shop-db-replica")["spec"]
    assert policy["ingress"][0]["from"] == [{"podSelector": components(*CLIENTS)}]
    assert policy["ingress"][1]["ports"] == [{"protocol": "TCP", "port": 9187}]
    [egress] = policy["egress"]
    assert egress["to"] == [{"podSelector": {"matchLabels": {**APP_PODS, "app.kubernetes.io/component": "database"}}}]


def test_the_app_gets_the_read_url(replicated):
    env = replicated.one("Secret", "shop-db")["stringData"]
    assert "@shop-db-replica.shop.svc.cluster.local:5432/app" in env["DATABASE_READ_URL"]
    assert env["ASYNC_DATABASE_READ_URL"].startswith("postgresql+asyncpg://app:")
    # Writes still go through the pooler to the primary.
    assert "@shop-db-pooler." in env["DATABASE_URL"]


def test_one_replica_says_why_it_is_alone():
    standby = database(replica={"enabled": True}).one("StatefulSet", "shop-db-replica")
    assert "database.replica.replicas" in standby["metadata"]["annotations"]["shipyard.dev/singleton"]


def test_no_replica_objects_by_default(default):
    assert default.find("StatefulSet", "shop-db-replica") == []
    assert "DATABASE_READ_URL" not in default.one("Secret", "shop-db")["stringData"]
    assert default.one("StatefulSet", "shop-db")["spec"]["template"]["spec"].get("initContainers") is None


def test_a_managed_database_has_no_replica_here():
    found = problems(database={"enabled": True, "mode": "external", "url": "postgresql://u:p@h/db",
                               "replica": {"enabled": True}})
    assert "database.replica is for an in-cluster database; a managed server's replicas come from its provider" in found


def test_standbys_can_be_sized_apart_and_tune_to_their_own_memory():
    recording = database(resources={"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
                         replica={"enabled": True, "resources": {"requests": {"cpu": "500m", "memory": "2Gi"},
                                                                 "limits": {"cpu": "1", "memory": "2Gi"}}})
    [server] = [c for c in recording.one("StatefulSet", "shop-db-replica")["spec"]["template"]["spec"]["containers"]
                if c["name"] == "postgres"]
    assert server["resources"]["limits"] == {"cpu": "1", "memory": "2Gi"}
    standby = recording.one("ConfigMap", "shop-db-replica-config")["data"]["postgresql.conf"]
    primary = recording.one("ConfigMap", "shop-db-config")["data"]["postgresql.conf"]
    assert "shared_buffers = '512MB'" in standby and "shared_buffers = '1024MB'" in primary
    # A hot standby needs at least the primary's max_connections: both come from the same setting.
    assert "max_connections = 100" in standby and "max_connections = 100" in primary
