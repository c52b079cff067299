"""Every stack file, run end to end under mocks, renders valid objects."""

from __future__ import annotations

import json

import shutil

import pytest
import yaml

import stack_config
from components.spec import spec_type
from tests.conftest import containers, step
from tools import render, stacks, validate
from tools.recording import ROOT
from tools.stacks import project, stack_names

STACKS = stack_names()


@pytest.fixture(scope="module", params=STACKS)
def rendered(request):
    return request.param, render.render(request.param)


def test_there_are_dev_prod_and_example_stacks():
    assert {"dev", "prod", "loan-lifecycle"} <= set(STACKS)


def test_loan_lifecycle_connects_through_pgbouncer():
    recording = render.render("loan-lifecycle")
    env = recording.one("Secret", "loan-backend-db")["stringData"]
    assert "@loan-backend-db-pooler." in env["DATABASE_URL"]
    ini = recording.one("ConfigMap", "loan-backend-db-pooler")["data"]["pgbouncer.ini"]
    assert "pool_mode = transaction" in ini and "max_client_conn = 100" in ini and "default_pool_size = 20" in ini
    job = step(recording.one("Job"), "migrate")
    # Past the pooler, for the URL and for tools that read libpq's variables alike.
    assert {e["name"]: e["valueFrom"]["secretKeyRef"]["key"] for e in job["env"]} == {
        "DATABASE_URL": "DATABASE_DIRECT_URL", "SQLALCHEMY_DATABASE_URI": "DATABASE_DIRECT_URL",
        "PGHOST": "DATABASE_DIRECT_HOST", "PGPORT": "DATABASE_DIRECT_PORT",
    }
    assert env["DATABASE_DIRECT_HOST"].startswith("loan-backend-db.") and env["DATABASE_DIRECT_PORT"] == "5432"
    assert env["PGHOST"].startswith("loan-backend-db-pooler.")


def test_every_stack_passes_strict_schema_validation(rendered):
    stack, recording = rendered
    assert recording.manifests()
    assert validate.problems(recording.manifests()) == []


CLUSTER_SCOPED = {"Namespace", "ClusterIssuer"}


def test_every_object_is_namespaced_to_the_stack_namespace(rendered):
    stack, recording = rendered
    namespace = recording.one("Namespace")["metadata"]["name"]
    for manifest in recording.manifests():
        if manifest["kind"] not in CLUSTER_SCOPED:
            assert manifest["metadata"]["namespace"] == namespace, manifest["metadata"]["name"]


STANDARD_LABELS = {
    "app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component",
    "app.kubernetes.io/part-of", "app.kubernetes.io/managed-by", "app.kubernetes.io/version",
}


def test_every_object_has_the_full_standard_label_set(rendered):
    stack, recording = rendered
    for manifest in recording.manifests():
        labels = manifest["metadata"].get("labels", {})
        assert STANDARD_LABELS <= set(labels), manifest["metadata"]["name"]
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert labels["app.kubernetes.io/instance"] == f"{labels['app.kubernetes.io/name']}-{stack}"


def test_prod_has_everything_a_production_backend_needs():
    recording = render.render("prod")
    kinds = {m["kind"] for m in recording.manifests()}
    assert {
        "Namespace", "NetworkPolicy", "ServiceAccount", "ConfigMap", "Service",
        "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Job",
    } <= kinds
    hpa = recording.one("HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 3 and hpa["spec"]["maxReplicas"] == 10
    web = recording.one("Deployment", "blockscore")
    assert "replicas" not in web["spec"]
    worker = recording.one("Deployment", "blockscore-celery")
    assert worker["spec"]["replicas"] >= 2
    beat = recording.one("Deployment", "blockscore-beat")
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate"
    assert step(recording.one("Job"), "migrate")["command"] == ["flask", "db", "upgrade"]
    [namespace] = recording.find("Namespace")
    assert namespace.protect
    # Generated keys and the guide's third-party credentials reach every app pod through the app's Secret.
    assert set(recording.one("Secret", "blockscore-secrets")["stringData"]) == {
        "SECRET_KEY", "JWT_SECRET_KEY", "PLAID_CLIENT_ID", "PLAID_SECRET", "OPENAI_API_KEY",
        "BLOCKCHAIN_PRIVATE_KEY", "BLOCKCHAIN_PROVIDER_URL", "MAIL_PASSWORD", "SENTRY_DSN",
    }
    env = recording.one("ConfigMap", "blockscore-env")["data"]
    assert {"MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USERNAME", "MAIL_DEFAULT_SENDER", "BLOCKCHAIN_FROM_ADDRESS"} <= set(env)
    for deployment in ("blockscore", "blockscore-celery", "blockscore-beat"):
        env_from = containers(recording.one("Deployment", deployment))[0]["envFrom"]
        assert {"secretRef": {"name": "blockscore-secrets"}} in env_from
        assert {"secretRef": {"name": "blockscore-db"}} in env_from
        assert {"secretRef": {"name": "blockscore-redis"}} in env_from
    assert {"secretRef": {"name": "blockscore-db"}} in step(recording.one("Job"), "migrate")["envFrom"]


def test_prod_migration_waits_for_the_database():
    recording = render.render("prod")
    [job] = recording.find("Job")
    wait = step(job.inputs, "wait-for-database")
    assert "pg_isready" in wait["command"][2]
    assert wait["env"] == [{"name": "DATABASE_HOST", "value": "blockscore-db.blockscore-prod.svc.cluster.local"}]
    # Created only after the database component, its StatefulSet included, is ready.
    [stateful_set] = recording.find("StatefulSet", "blockscore-db")
    assert stateful_set.urn in job.dependencies


def test_prod_app_pods_may_reach_their_database_and_nothing_else_internal():
    recording = render.render("prod")
    egress = recording.one("NetworkPolicy", "blockscore-egress")["spec"]["egress"]
    db_selector = recording.one("StatefulSet", "blockscore-db")["spec"]["selector"]["matchLabels"]
    assert {"to": [{"podSelector": {"matchLabels": db_selector}}], "ports": [{"protocol": "TCP", "port": 5432}]} in egress
    # The database admits exactly the pods that carry the app's labels.
    app_labels = recording.one("Deployment", "blockscore")["spec"]["template"]["metadata"]["labels"]
    clients, scraper = recording.one("NetworkPolicy", "blockscore-db")["spec"]["ingress"]
    admitted = clients["from"][0]["podSelector"]["matchLabels"]
    assert scraper == {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
                       "ports": [{"protocol": "TCP", "port": 9187}]}
    assert set(admitted.items()) <= set(app_labels.items())
    assert db_selector["app.kubernetes.io/component"] == "database"
    assert prod_tuning(recording)["max_connections"] == "200"
    redis_selector = recording.one("StatefulSet", "blockscore-redis")["spec"]["selector"]["matchLabels"]
    assert {"to": [{"podSelector": {"matchLabels": redis_selector}}], "ports": [{"protocol": "TCP", "port": 6379}]} in egress


def test_prod_redis_follows_the_guide():
    recording = render.render("prod")
    conf = recording.one("ConfigMap", "blockscore-redis-config")["data"]["redis.conf"]
    assert "maxmemory 2gb" in conf and "maxmemory-policy allkeys-lru" in conf
    assert "save 900 1" in conf and "save 60 10000" in conf
    urls = recording.one("Secret", "blockscore-redis")["stringData"]
    assert [urls[k].rsplit("/", 1)[1] for k in ("REDIS_URL", "CACHE_REDIS_URL", "RATELIMIT_STORAGE_URL")] == ["0", "1", "3"]
    # The snapshot fork has room: the guide's 2 GB of data in half of a 4 GiB limit.
    redis = containers(recording.one("StatefulSet", "blockscore-redis"))[0]
    assert redis["resources"]["limits"]["memory"] == "4Gi"


def test_prod_celery_queue_is_on_a_redis_that_never_drops_a_task():
    recording = render.render("prod")
    assert "CELERY_BROKER_URL" not in recording.one("Secret", "blockscore-redis")["stringData"]
    broker_url = recording.one("Secret", "blockscore-broker")["stringData"]["CELERY_BROKER_URL"]
    assert "@blockscore-broker.blockscore-prod.svc.cluster.local:6379/" in broker_url
    conf = recording.one("ConfigMap", "blockscore-broker-config")["data"]["redis.conf"]
    assert "maxmemory-policy noeviction" in conf and "appendonly yes" in conf and "appendfsync everysec" in conf
    for deployment in ("blockscore", "blockscore-celery", "blockscore-beat"):
        assert {"secretRef": {"name": "blockscore-broker"}} in containers(recording.one("Deployment", deployment))[0]["envFrom"]


def prod_tuning(recording) -> dict[str, str]:
    conf = recording.one("ConfigMap", "blockscore-db-config")["data"]["postgresql.conf"]
    pairs = (line.split(" = ", 1) for line in conf.splitlines() if " = " in line)
    return {name: value.strip("'") for name, value in pairs}


def test_dev_is_one_small_replica_without_autoscaler():
    recording = render.render("dev")
    assert recording.one("Deployment")["spec"]["replicas"] == 1
    assert recording.find("HorizontalPodAutoscaler") == []
    assert not recording.find("Namespace")[0].protect


@pytest.fixture
def project_dir(tmp_path, monkeypatch):
    """A copy of the project's Pulumi.yaml in a temporary directory that the tools use."""
    shutil.copy(stacks.ROOT / "Pulumi.yaml", tmp_path)
    monkeypatch.setattr(stacks, "ROOT", tmp_path)
    monkeypatch.setattr(stacks, "STACKS_DIR", tmp_path)
    monkeypatch.setattr(render, "ROOT", tmp_path)
    return tmp_path


def test_make_render_writes_one_yaml_document_per_object(project_dir, capsys):
    shutil.copy(ROOT / "Pulumi.prod.yaml", project_dir)
    assert render.main(["prod"]) == 0
    documents = list(yaml.safe_load_all((project_dir / "build" / "prod" / "manifests.yaml").read_text()))
    assert len(documents) == len(render.render("prod").kubernetes_objects())
    assert list(documents[0])[:3] == ["apiVersion", "kind", "metadata"]
    # Integers stay integers.
    hpa = next(d for d in documents if d["kind"] == "HorizontalPodAutoscaler")
    assert isinstance(hpa["spec"]["maxReplicas"], int)
    table = capsys.readouterr().out
    assert "COMPONENT" in table and "HorizontalPodAutoscaler" in table
    assert "objects written to build/prod/manifests.yaml" in table


def test_make_render_reports_bad_config_without_a_traceback(project_dir, capsys):
    bad = {"config": {"shipyard:app": {"name": "x", "image": "x:latest"}}}
    (project_dir / "Pulumi.broken.yaml").write_text(yaml.safe_dump(bad))
    assert render.main(["broken"]) == 1
    captured = capsys.readouterr()
    assert "app.image: 'x:latest' is not pinned" in captured.err
    assert "Traceback" not in captured.err
    assert not (project_dir / "build").exists()


def test_make_render_refuses_an_unknown_stack(project_dir, capsys):
    assert render.main(["nosuch"]) == 2
    assert "Pulumi.nosuch.yaml" in capsys.readouterr().err


def test_make_validate_writes_what_it_checked_in_one_run(project_dir, capsys):
    shutil.copy(ROOT / "Pulumi.dev.yaml", project_dir)
    assert validate.main(["dev"]) == 0
    written = list(yaml.safe_load_all((project_dir / "build" / "dev" / "manifests.yaml").read_text()))
    assert len(written) == len(render.render("dev").kubernetes_objects())
    assert "ok   pod-security" in capsys.readouterr().out


def test_make_validate_refuses_an_unknown_stack(project_dir, capsys):
    with pytest.raises(SystemExit) as exit_:
        validate.main(["nosuch"])
    assert exit_.value.code == 2 and "Pulumi.nosuch.yaml" in capsys.readouterr().err


def test_pulumi_yaml_declares_exactly_the_top_level_keys():
    declared = project()["config"]
    fields = {f.alias or name: f for name, f in stack_config.StackConfig.model_fields.items()}
    assert set(declared) == set(fields)
    for key, declaration in declared.items():
        assert declaration["description"].strip(), key
        structured = spec_type(fields[key].annotation) is not None
        assert declaration["type"] == ("object" if structured else "string"), key


def test_stack_files_only_use_declared_keys():
    declared = set(project()["config"])
    for stack in STACKS:
        values = yaml.safe_load(open(f"Pulumi.{stack}.yaml"))["config"]
        for key in values:
            namespace, _, name = key.partition(":")
            assert namespace == "shipyard" and name in declared, f"{stack}: {key}"


def test_the_migration_job_is_renamed_by_any_change_to_its_pod():
    # The Job's pod template is immutable: a database image or host change that edits the
    # wait-for-database init container in place would be refused by the API server.
    from tests.conftest import MINIMAL_APP, run_stack

    app = {**MINIMAL_APP, "migration": {"command": ["flask", "db", "upgrade"]}}

    def job(database: dict) -> dict:
        return run_stack(app=app, database={"enabled": True, **database}).one("Job")

    first, newer_server = job({}), job({"image": "postgres:17.7-bookworm"})
    assert newer_server["spec"]["template"]["spec"]["initContainers"][0]["image"] == "postgres:17.7-bookworm"
    assert first["metadata"]["name"] != newer_server["metadata"]["name"]
    assert first["metadata"]["name"] == job({})["metadata"]["name"]


SEEDS = ROOT.parent / "shared" / "seeds"
BLOCKSCORE_GUIDE = SEEDS / "000_03d095377d3b8f7c.txt"


def routes_behind_login(guide: str) -> set[str]:
    """Flask routes the guide decorates with @jwt_required (the kubelet sends no token)."""
    import re

    found = re.findall(r"@app\.route\('([^']+)'[^)]*\)\s*\n\s*@jwt_required", guide)
    return set(found)


def test_prod_probes_hit_only_routes_the_guide_leaves_open():
    guarded = routes_behind_login(BLOCKSCORE_GUIDE.read_text())
    assert "/api/health/detailed" in guarded  # the guide's monitoring section
    web = containers(render.render("prod").one("Deployment", "blockscore"))[0]
    paths = {web[p]["httpGet"]["path"] for p in ("startupProbe", "readinessProbe", "livenessProbe")}
    assert paths == {"/api/health"} and not paths & guarded


@pytest.mark.parametrize("stack", ["prod", "loan-lifecycle"])
def test_secret_values_appear_in_secrets_only(stack):
    """Config secrets and generated passwords reach Secret data and nothing else: no
    annotation, label, ConfigMap, env value, custom resource or stack output."""
    import json

    from tools.recording import MOCK_PASSWORD
    from tools.stacks import PLACEHOLDER_SECRET

    recording = render.render(stack)
    for manifest in recording.manifests():
        if manifest["kind"] == "Secret":
            continue
        text = json.dumps(manifest)
        assert PLACEHOLDER_SECRET not in text and MOCK_PASSWORD not in text, (manifest["kind"], manifest["metadata"]["name"])
    outputs = json.dumps(recording.outputs)
    assert PLACEHOLDER_SECRET not in outputs and MOCK_PASSWORD not in outputs


def test_no_env_variable_is_empty(rendered):
    # The engine leaves an empty `value` out of what it sends, so an object carrying one
    # would never match what the cluster stores (a diff on every preview).
    stack, recording = rendered
    for manifest in recording.manifests():
        text = json.dumps(manifest)
        assert '"value": ""' not in text, (stack, manifest["metadata"]["name"])


def test_no_object_carries_an_empty_map(rendered):
    # The engine leaves empty maps (annotations, labels) out of what it sends, as it does
    # empty values: an object carrying one would differ from what the cluster stores.
    stack, recording = rendered
    for manifest in recording.manifests():
        metadata = manifest["metadata"]
        assert metadata.get("annotations", None) != {} and metadata.get("labels", None) != {}, \
            (stack, metadata["name"])
