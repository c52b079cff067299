"""components/backend: the web Deployment and what surrounds it, workers, migration."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.backend import AppSpec, Backend, BackendArgs, EnvSecret
from components.backend.workload import CHECKSUM_ANNOTATION
from components.database.rollout import (
    RECORD_CONTAINER,
    REVISION_VARIABLE,
    WAIT_CONTAINER,
    RolloutGate,
)
from components.network import NetworkSpec
from tests.conftest import MINIMAL_APP, containers, run_components, step, steps
from tools.recording import MOCK_DIGEST, Recording

CELERY = {"name": "celery", "command": ["celery", "worker"], "probe": {"command": ["celery", "inspect", "ping"]}}
BEAT = {"name": "beat", "role": "scheduler", "command": ["celery", "beat"], "probe": {"command": ["true"]}}


def backend(app: dict[str, Any] | None = None, **args: Any) -> Recording:
    spec = AppSpec.model_validate({**MINIMAL_APP, **(app or {})})
    return run_components(
        lambda: Backend("shop", BackendArgs(namespace="shop-test", instance="shop-test", app=spec, **args))
    )


def web(recording: Recording) -> dict[str, Any]:
    return recording.one("Deployment", "shop")


def web_container(recording: Recording) -> dict[str, Any]:
    return containers(web(recording))[0]


# -- probes ---------------------------------------------------------------------------


def test_default_probes_use_the_health_path_with_distinct_timings():
    container = web_container(backend())
    startup, readiness, liveness = (container[p] for p in ("startupProbe", "readinessProbe", "livenessProbe"))
    for probe in (startup, readiness, liveness):
        assert probe["httpGet"] == {"path": "/health", "port": "http"}
    # Startup tolerates a slow boot; readiness reacts faster than liveness kills.
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 120
    assert readiness["periodSeconds"] < liveness["periodSeconds"]
    assert len({(p["periodSeconds"], p["failureThreshold"]) for p in (startup, readiness, liveness)}) == 3


def test_can_configure_health_and_readiness_paths():
    container = web_container(backend({"healthPath": "/api/health", "readinessPath": "/api/ready"}))
    assert container["livenessProbe"]["httpGet"]["path"] == "/api/health"
    assert container["startupProbe"]["httpGet"]["path"] == "/api/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/ready"


def test_can_configure_probe_headers():
    # Django answers a request whose Host is not in ALLOWED_HOSTS with 400; the kubelet
    # sends the pod IP unless told otherwise.
    headers = {"Host": "shop.example.com", "X-Forwarded-Proto": "https"}
    container = web_container(backend({"probeHeaders": headers}))
    expected = [{"name": "Host", "value": "shop.example.com"}, {"name": "X-Forwarded-Proto", "value": "https"}]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["httpHeaders"] == expected


def test_default_port_is_named_and_exposed_by_the_service():
    recording = backend()
    assert web_container(recording)["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
    service = recording.one("Service", "shop")
    assert service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}]
    assert service["spec"]["selector"] == web(recording)["spec"]["selector"]["matchLabels"]


def test_can_configure_port():
    assert web_container(backend({"port": 5000}))["ports"][0]["containerPort"] == 5000


# -- hardening ------------------------------------------------------------------------


def test_pods_run_restricted():
    deployment = web(backend())
    pod = deployment["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    context = pod["containers"][0]["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["runAsNonRoot"] is True


def test_read_only_root_gets_a_writable_tmp():
    pod = web(backend())["spec"]["template"]["spec"]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}]
    assert pod["containers"][0]["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]


def test_can_configure_run_as_user():
    pod = web(backend({"runAsUser": 20000}))["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 20000
    assert pod["containers"][0]["securityContext"]["runAsUser"] == 20000


def test_service_account_has_no_token():
    recording = backend()
    account = recording.one("ServiceAccount", "shop")
    assert account["automountServiceAccountToken"] is False
    assert web(recording)["spec"]["template"]["spec"]["serviceAccountName"] == "shop"


# -- resources --------------------------------------------------------------------------


def test_default_resources_have_requests_and_limits():
    resources = web_container(backend())["resources"]
    assert resources == {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


def test_can_configure_resources():
    wanted = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
    assert web_container(backend({"resources": wanted}))["resources"] == wanted


# -- rollouts ---------------------------------------------------------------------------


def test_rolling_update_never_lowers_capacity():
    strategy = web(backend())["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_termination_grace_outlasts_pre_stop_and_server_drain():
    deployment = web(backend({"preStopSeconds": 5, "gracefulShutdownSeconds": 30}))
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert pod["terminationGracePeriodSeconds"] > 5 + 30


def test_no_pre_stop_hook_when_pause_is_zero():
    assert "lifecycle" not in web_container(backend({"preStopSeconds": 0}))


def test_default_spread_prefers_other_nodes_and_zones():
    spread = web(backend())["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert {(c["topologyKey"], c["whenUnsatisfiable"]) for c in spread} == {
        ("kubernetes.io/hostname", "ScheduleAnyway"),
        ("topology.kubernetes.io/zone", "ScheduleAnyway"),
    }


def test_strict_spread_requires_other_nodes():
    spread = web(backend(strict_spread=True))["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert ("kubernetes.io/hostname", "DoNotSchedule") in {
        (c["topologyKey"], c["whenUnsatisfiable"]) for c in spread
    }


def test_selector_is_stable_and_labels_are_complete():
    deployment = web(backend())
    assert deployment["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "shop",
        "app.kubernetes.io/instance": "shop-test",
        "app.kubernetes.io/component": "web",
    }
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "2.0.1"
    assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    assert deployment["metadata"]["labels"] == labels


# -- replicas and autoscaling ---------------------------------------------------------------


def test_fixed_replicas_set_the_field_and_make_no_autoscaler():
    recording = backend({"replicas": {"min": 2, "max": 2}})
    assert web(recording)["spec"]["replicas"] == 2
    assert recording.find("HorizontalPodAutoscaler") == []


def test_replica_range_makes_an_autoscaler_and_drops_the_replicas_field():
    recording = backend({"replicas": {"min": 3, "max": 10}, "autoscaling": {"cpuUtilization": 60}})
    assert "replicas" not in web(recording)["spec"]
    hpa = recording.one("HorizontalPodAutoscaler", "shop")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 10)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop"}
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["spec"]["metrics"]}
    assert targets == {"cpu": 60, "memory": 80}


def test_web_has_a_disruption_budget_that_still_allows_drains():
    recording = backend()
    budget = recording.one("PodDisruptionBudget", "shop")
    assert budget["spec"]["maxUnavailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == web(recording)["spec"]["selector"]["matchLabels"]


# -- environment --------------------------------------------------------------------------


def test_plain_env_is_a_config_map_read_with_env_from():
    recording = backend({"env": {"LOG_LEVEL": "INFO"}})
    config_map = recording.one("ConfigMap", "shop-env")
    assert config_map["data"]["LOG_LEVEL"] == "INFO"
    assert config_map["data"]["PYTHONUNBUFFERED"] == "1"
    assert web_container(recording)["envFrom"] == [{"configMapRef": {"name": "shop-env"}}]
    assert "env" not in web_container(recording)


def test_app_env_overrides_the_python_defaults():
    config_map = backend({"env": {"PYTHONUNBUFFERED": "0"}}).one("ConfigMap", "shop-env")
    assert config_map["data"]["PYTHONUNBUFFERED"] == "0"


def test_secrets_are_read_with_env_from():
    recording = backend(secrets=[EnvSecret(name="shop-database", checksum="abc")])
    assert {"secretRef": {"name": "shop-database"}} in web_container(recording)["envFrom"]


def checksum(recording: Recording) -> str:
    return web(recording)["spec"]["template"]["metadata"]["annotations"][CHECKSUM_ANNOTATION]


def test_checksum_changes_with_plain_env():
    assert checksum(backend({"env": {"A": "1"}})) != checksum(backend({"env": {"A": "2"}}))


def test_checksum_changes_with_secret_content_but_is_not_secret():
    secret = pulumi.Output.secret("v1")
    first = backend(secrets=[EnvSecret(name="s", checksum=secret)])
    second = backend(secrets=[EnvSecret(name="s", checksum=pulumi.Output.secret("v2"))])
    assert checksum(first) != checksum(second)
    assert first.find("Deployment", "shop")[0].secret_paths == []


def test_checksum_is_stable():
    assert checksum(backend({"env": {"A": "1"}})) == checksum(backend({"env": {"A": "1"}}))


# -- workers ---------------------------------------------------------------------------------


def test_workers_run_the_app_image_with_their_own_command_and_probes():
    recording = backend({"workers": [{**CELERY, "replicas": 3}]})
    worker = recording.one("Deployment", "shop-celery")
    container = containers(worker)[0]
    assert container["image"] == MINIMAL_APP["image"]
    assert container["command"] == ["celery", "worker"]
    assert "ports" not in container
    for probe in ("startupProbe", "readinessProbe"):
        assert container[probe]["exec"] == {"command": ["celery", "inspect", "ping"]}
    assert worker["spec"]["replicas"] == 3
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert worker["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "worker-celery"
    assert recording.one("PodDisruptionBudget", "shop-celery")["spec"]["maxUnavailable"] == 1


def test_worker_liveness_tests_the_process_not_the_broker():
    # A broker round-trip as liveness would kill every worker at once when the broker restarts.
    container = containers(backend({"workers": [CELERY]}).one("Deployment", "shop-celery"))[0]
    liveness = container["livenessProbe"]["exec"]["command"]
    assert liveness != container["readinessProbe"]["exec"]["command"]
    assert liveness[:2] == ["python3", "-c"] and "/proc/1/stat" in liveness[2]


def test_can_configure_a_heartbeat_file_for_worker_liveness():
    worker = {**CELERY, "liveness": {"heartbeatFile": "/tmp/worker-heartbeat", "maxAgeSeconds": 90, "periodSeconds": 20}}
    probe = containers(backend({"workers": [worker]}).one("Deployment", "shop-celery"))[0]["livenessProbe"]
    assert "'/tmp/worker-heartbeat'" in probe["exec"]["command"][2] and "> 90" in probe["exec"]["command"][2]
    assert probe["periodSeconds"] == 20 and probe["failureThreshold"] == 3


def test_worker_gets_its_own_resources_and_grace():
    worker_spec = {**CELERY, "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}, "gracefulShutdownSeconds": 300}
    worker = backend({"workers": [worker_spec]}).one("Deployment", "shop-celery")
    assert containers(worker)[0]["resources"]["limits"] == {"cpu": "2", "memory": "2Gi"}
    assert worker["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] > 300


def test_scheduler_is_a_recreated_singleton():
    recording = backend({"workers": [BEAT]})
    beat = recording.one("Deployment", "shop-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert recording.find("PodDisruptionBudget", "shop-beat") == []


def test_any_number_of_workers():
    recording = backend({"workers": [CELERY, BEAT, {**CELERY, "name": "rq"}]})
    assert {d.object_name for d in recording.find("Deployment")} == {"shop", "shop-celery", "shop-beat", "shop-rq"}


def test_worker_pods_do_not_receive_web_traffic():
    recording = backend({"workers": [CELERY]})
    service_selector = recording.one("Service", "shop")["spec"]["selector"]
    worker_labels = recording.one("Deployment", "shop-celery")["spec"]["template"]["metadata"]["labels"]
    assert not set(service_selector.items()) <= set(worker_labels.items())


# -- migration --------------------------------------------------------------------------------

MIGRATION = {"migration": {"command": ["flask", "db", "upgrade"]}}


def test_no_migration_job_by_default():
    assert backend().find("Job") == []


def test_up_waits_for_the_migration_as_long_as_it_may_run():
    [job] = backend({"migration": {"command": ["alembic", "upgrade", "head"], "timeoutSeconds": 1800, "retries": 2}}).find("Job")
    assert job.inputs["spec"]["activeDeadlineSeconds"] == 1800 and job.inputs["spec"]["backoffLimit"] == 2
    # The deadline bounds the Job, retries included; the engine's own default is ten minutes.
    assert job.create_timeout == f"{1800 + 300}s"


def test_migration_job_runs_the_command_once_and_gates_every_deployment():
    recording = backend({**MIGRATION, "workers": [CELERY, BEAT]})
    [job] = recording.find("Job")
    spec = job.inputs["spec"]
    assert containers(job.inputs)[0]["command"] == ["flask", "db", "upgrade"]
    assert spec["template"]["spec"]["restartPolicy"] == "Never"
    assert spec["backoffLimit"] == 1
    assert spec["activeDeadlineSeconds"] == 600
    for deployment in recording.find("Deployment"):
        assert job.urn in deployment.dependencies, deployment.object_name


def test_can_configure_migration_limits():
    recording = backend({"migration": {"command": ["alembic", "upgrade", "head"], "retries": 0, "timeoutSeconds": 120}})
    spec = recording.one("Job")["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (0, 120)


def job_name(app: dict[str, Any]) -> str:
    return backend({**MIGRATION, **app}).find("Job")[0].object_name


def test_migration_job_name_changes_with_the_image():
    first = job_name({"image": "registry.example.com/shop:2.0.1"})
    assert first.startswith("shop-migrate-")
    assert first != job_name({"image": "registry.example.com/shop:2.0.2"})
    assert first == job_name({"image": "registry.example.com/shop:2.0.1"})


def test_migration_job_name_changes_with_the_environment():
    assert job_name({"env": {"A": "1"}}) != job_name({"env": {"A": "2"}})


GATE = RolloutGate(
    image="postgres:17.6-bookworm",
    connection=[k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name="shop-db"))],
)


def test_without_a_gate_the_order_is_the_engines_alone():
    recording = backend({**MIGRATION, "workers": [CELERY]})
    assert [steps(d.inputs) for d in recording.find("Deployment")] == [containers(d.inputs) for d in recording.find("Deployment")]


def test_with_a_gate_every_app_pod_waits_for_the_revision_its_job_records():
    recording = backend({**MIGRATION, "workers": [CELERY, BEAT]}, rollout_gate=GATE)
    job = recording.one("Job")
    revision = {"name": REVISION_VARIABLE, "value": job["metadata"]["name"]}
    # The migration first, then the record: init containers run in order and stop at a failure.
    assert [c["name"] for c in steps(job)] == ["migrate", RECORD_CONTAINER]
    assert revision in step(job, RECORD_CONTAINER)["env"]
    for deployment in recording.find("Deployment"):
        first = steps(deployment.inputs)[0]
        assert (first["name"], first["env"]) == (WAIT_CONTAINER, [revision]), deployment.object_name
        assert first["envFrom"] == [{"secretRef": {"name": "shop-db"}}]


def test_gate_steps_run_as_the_pod_they_join_and_are_hardened():
    recording = backend({**MIGRATION, "runAsUser": 20000}, rollout_gate=GATE)
    for manifest in (web(recording), recording.one("Job")):
        gate = [c for c in steps(manifest) if c["name"] in (WAIT_CONTAINER, RECORD_CONTAINER)]
        assert len(gate) == 1
        context = gate[0]["securityContext"]
        assert (context["runAsUser"], context["readOnlyRootFilesystem"], context["allowPrivilegeEscalation"]) == (20000, True, False)


def test_a_new_revision_rolls_the_pods_to_wait_for_it():
    def waited_for(image: str) -> str:
        return steps(web(backend({**MIGRATION, "image": image}, rollout_gate=GATE)))[0]["env"][0]["value"]

    assert waited_for("registry.example.com/shop:2.0.1") != waited_for("registry.example.com/shop:2.0.2")


def test_migration_pod_is_restricted_too():
    job = backend(MIGRATION).one("Job")
    assert job["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert containers(job)[0]["securityContext"]["readOnlyRootFilesystem"] is True


# -- image ----------------------------------------------------------------------------------


def test_default_image_is_the_pinned_reference_and_nothing_is_built():
    recording = backend()
    assert web_container(recording)["image"] == "registry.example.com/shop:2.0.1"
    assert not [r for r in recording.resources if r.type.startswith("docker:")]


def test_can_build_the_image_and_run_it_by_digest():
    recording = backend({"build": {"context": "app", "dockerfile": "app/Dockerfile"}, "workers": [CELERY]})
    [image] = [r for r in recording.resources if r.type == "docker:index/image:Image"]
    assert image.inputs["imageName"] == "registry.example.com/shop:2.0.1"
    assert image.inputs["build"]["context"] == "app"
    assert image.inputs["build"]["platform"] == "linux/amd64"
    assert image.inputs["skipPush"] is False
    digest_ref = f"registry.example.com/shop:2.0.1@{MOCK_DIGEST}"
    assert web_container(recording)["image"] == digest_ref
    assert containers(recording.one("Deployment", "shop-celery"))[0]["image"] == digest_ref


def test_unpushed_build_runs_by_tag():
    recording = backend({"build": {"push": False}})
    assert web_container(recording)["image"] == "registry.example.com/shop:2.0.1"


# -- network ---------------------------------------------------------------------------------


def test_web_accepts_traffic_only_from_the_ingress_controller_on_its_port():
    policy = backend().one("NetworkPolicy", "shop-web-ingress")["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    [rule] = policy["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]


def test_can_configure_the_ingress_namespace():
    recording = backend(network=NetworkSpec(ingress_namespace="traefik"))
    [rule] = recording.one("NetworkPolicy", "shop-web-ingress")["spec"]["ingress"]
    assert rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "traefik"


def test_no_egress_beyond_dns_by_default():
    assert backend().find("NetworkPolicy", "shop-egress") == []


def test_internet_egress_excludes_private_and_metadata_ranges():
    policy = backend(network=NetworkSpec(internet_egress=True)).one("NetworkPolicy", "shop-egress")["spec"]
    assert policy["policyTypes"] == ["Egress"]
    block = policy["egress"][0]["to"][0]["ipBlock"]
    assert block["cidr"] == "0.0.0.0/0"
    assert {"10.0.0.0/8", "169.254.0.0/16"} <= set(block["except"])
    # Every app pod (web, workers, migration) shares the policy.
    assert set(policy["podSelector"]["matchLabels"]) == {"app.kubernetes.io/name", "app.kubernetes.io/instance"}


# -- outputs ---------------------------------------------------------------------------------


def test_outputs_name_the_service():
    def program():
        spec = AppSpec.model_validate(MINIMAL_APP)
        component = Backend("shop", BackendArgs(namespace="shop-test", instance="shop-test", app=spec))
        pulumi.export("url", component.service_url)

    assert run_components(program).outputs["url"] == "http://shop.shop-test.svc.cluster.local"


def test_children_are_parented_to_the_component():
    recording = backend({**MIGRATION, "workers": [CELERY]})
    [component] = [r for r in recording.resources if r.type == "shipyard:app:Backend"]
    assert {r.urn for r in recording.children_of(component)} == {r.urn for r in recording.kubernetes_objects()}


# -- shared volumes ----------------------------------------------------------------------------

UPLOADS = {"name": "uploads", "mountPath": "/srv/uploads", "size": "20Gi", "storageClass": "efs"}


def test_no_shared_volume_by_default():
    assert backend().find("PersistentVolumeClaim") == []


def test_a_shared_volume_is_one_claim_mounted_by_every_app_pod():
    recording = backend({"volumes": [UPLOADS], "workers": [CELERY], **MIGRATION})
    [claim] = recording.find("PersistentVolumeClaim")
    assert claim.object_name == "shop-uploads"
    assert claim.inputs["spec"] == {
        "accessModes": ["ReadWriteMany"], "storageClassName": "efs", "resources": {"requests": {"storage": "20Gi"}}
    }
    for manifest in (recording.one("Deployment", "shop"), recording.one("Deployment", "shop-celery"), recording.one("Job")):
        pod = manifest["spec"]["template"]["spec"]
        assert {"name": "shared-uploads", "persistentVolumeClaim": {"claimName": "shop-uploads"}} in pod["volumes"]
        assert {"name": "shared-uploads", "mountPath": "/srv/uploads"} in pod["containers"][0]["volumeMounts"]


def test_a_shared_volume_is_protected_in_production():
    [claim] = backend({"volumes": [UPLOADS]}, protect=True).find("PersistentVolumeClaim")
    assert claim.protect and claim.retain_on_delete
    [unprotected] = backend({"volumes": [UPLOADS]}).find("PersistentVolumeClaim")
    assert not unprotected.protect


def spec_errors(app: dict[str, Any], environment: str | None = None) -> list[str]:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as caught:
        AppSpec.model_validate({**MINIMAL_APP, **app}, context={"environment": environment} if environment else None)
    return [e["msg"] for e in caught.value.errors()]


def test_uploads_off_a_shared_volume_are_refused_in_production():
    app = {"image": MINIMAL_APP["image"] + "@" + MOCK_DIGEST, "replicas": {"min": 2, "max": 2}, "env": {"UPLOAD_FOLDER": "/tmp/uploads"}}
    [error] = spec_errors(app, "production")
    assert "`env.UPLOAD_FOLDER` (/tmp/uploads) is on no shared volume" in error
    assert AppSpec.model_validate({**MINIMAL_APP, **app, "env": {"UPLOAD_FOLDER": "/srv/uploads/files"}, "volumes": [UPLOADS]},
                                  context={"environment": "production"})
    # One development pod may keep its uploads in /tmp.
    assert AppSpec.model_validate({**MINIMAL_APP, "env": {"UPLOAD_FOLDER": "/tmp/uploads"}})


def test_a_single_node_volume_with_several_pods_is_refused():
    [error] = spec_errors({"replicas": {"min": 2, "max": 4}, "volumes": [{**UPLOADS, "accessMode": "ReadWriteOnce"}]})
    assert "`volumes` uploads: ReadWriteOnce mounts on one node only" in error
    assert AppSpec.model_validate({**MINIMAL_APP, "volumes": [{**UPLOADS, "accessMode": "ReadWriteOnce"}]})


def test_volume_names_and_paths_are_unique():
    [error] = spec_errors({"volumes": [UPLOADS, {**UPLOADS, "name": "media"}]})
    assert "needs its own mountPath; repeated: /srv/uploads" in error
