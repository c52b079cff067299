"""components/rabbitmq under mocks: the objects of one RabbitMQ node and who may reach it."""

from __future__ import annotations

import pytest

from tests.conftest import MINIMAL_APP, run_stack
from tests.test_stack_config import PROD_APP, problems

RABBIT = {"enabled": True}


@pytest.fixture(scope="module")
def recording():
    return run_stack(rabbitmq=RABBIT)


def test_the_app_reads_an_amqp_url_to_its_own_vhost(recording):
    url = recording.one("Secret", "shop-rabbitmq")["stringData"]["RABBITMQ_URL"]
    assert url == "amqp://app:mock-generated-password-shop-rabbitmq-app-password@shop-rabbitmq.shop-test.svc.cluster.local:5672/shop"
    web = recording.one("Deployment", "shop")["spec"]["template"]["spec"]["containers"][0]
    assert {"secretRef": {"name": "shop-rabbitmq"}} in web["envFrom"]


def test_a_vhost_with_a_slash_is_encoded_and_every_url_variable_is_set():
    recording = run_stack(rabbitmq={**RABBIT, "vhost": "a/b", "urls": ["RABBITMQ_URL", "CELERY_BROKER_URL"]})
    urls = recording.one("Secret", "shop-rabbitmq")["stringData"]
    assert set(urls) == {"RABBITMQ_URL", "CELERY_BROKER_URL"}
    assert all(u.endswith(":5672/a%2Fb") for u in urls.values())


def test_no_credential_is_in_the_config_map(recording):
    data = recording.one("ConfigMap", "shop-rabbitmq-config")["data"]
    assert "mock-generated-password" not in "".join(data.values())
    server = recording.one("Secret", "shop-rabbitmq-server")["stringData"]
    assert set(server) == {"20-credentials.conf", "erlang-cookie"}
    assert "default_pass = mock-generated-password-shop-rabbitmq-app-password" in server["20-credentials.conf"]


def test_the_node_runs_as_the_images_user_with_settings_and_credentials_side_by_side(recording):
    spec = recording.one("StatefulSet", "shop-rabbitmq")["spec"]
    pod = spec["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 100 and pod["securityContext"]["runAsNonRoot"]
    [cookie_step] = pod["initContainers"]
    assert "chmod 400 /var/lib/rabbitmq/.erlang.cookie" in cookie_step["command"][-1]
    [server] = pod["containers"]
    env = {e["name"]: e["value"] for e in server["env"]}
    assert env["RABBITMQ_CONFIG_FILES"] == "/etc/rabbitmq/shipyard.d"
    [conf] = [v for v in pod["volumes"] if v["name"] == "conf"]
    files = [i["path"] for source in conf["projected"]["sources"] for kind in source.values() for i in kind["items"]]
    assert files == ["10-settings.conf", "20-credentials.conf"]
    assert server["securityContext"]["readOnlyRootFilesystem"]
    assert server["livenessProbe"]["exec"]["command"] == ["rabbitmq-diagnostics", "-q", "ping"]
    assert spec["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "8Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_only_the_apps_pods_reach_amqp_and_only_the_scraper_the_metrics():
    recording = run_stack(rabbitmq=RABBIT, network={"metricsNamespace": "monitoring"})
    ingress = recording.one("NetworkPolicy", "shop-rabbitmq")["spec"]["ingress"]
    assert [r["ports"] for r in ingress] == [[{"port": 5672, "protocol": "TCP"}], [{"port": 15692, "protocol": "TCP"}]]
    assert ingress[0]["from"][0]["podSelector"]["matchExpressions"][0]["values"] == ["web"]
    # The node dials nothing: egress closed (DNS aside, which the namespace opens).
    spec = recording.one("NetworkPolicy", "shop-rabbitmq")["spec"]
    assert "Egress" in spec["policyTypes"] and not spec.get("egress")


def test_in_production_the_node_and_its_credentials_are_protected():
    recording = run_stack(environment="production", app=PROD_APP, rabbitmq=RABBIT)
    protected = {r.name for r in recording.resources if r.protect and r.retain_on_delete}
    assert {"shop-rabbitmq-statefulset", "shop-rabbitmq-server-secret", "shop-rabbitmq-app-password",
            "shop-rabbitmq-erlang-cookie-password"} <= protected


@pytest.mark.parametrize(("config", "message"), [
    ({"image": "rabbitmq:4.1.4-management-alpine"}, "rabbitmq.image (rabbitmq:4.1.4-management-alpine) must carry a digest"),
    ({"storage": {"size": "1Gi"}}, "rabbitmq.storage.size (1Gi) must be at least 2Gi"),
    ({"memoryHighWatermark": 0.95}, "rabbitmq.memoryHighWatermark"),
    ({"diskFreeLimit": "lots"}, "'lots' is not a RabbitMQ size"),
])
def test_bad_rabbitmq_config_names_the_key(config, message):
    found = problems(environment="production", app=PROD_APP, rabbitmq={**RABBIT, **config})
    assert any(message in p for p in found), found


def test_nothing_when_off():
    assert not run_stack(app=MINIMAL_APP).find("StatefulSet")
