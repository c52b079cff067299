"""components/cache: spec rules, rendered config, and the objects of both modes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.cache import BrokerSpec, Cache, CacheArgs, CacheSpec, config
from components.naming import AppIdentity
from tests.conftest import run_components

IDENTITY = AppIdentity(name="shop", instance="shop-test")
APP_PODS = {"app.kubernetes.io/name": "shop", "app.kubernetes.io/instance": "shop-test"}
CLIENTS = ["web", "worker-celery"]


def spec(**fields) -> CacheSpec:
    return CacheSpec.model_validate({"enabled": True, **fields})


def errors(context=None, spec_type=CacheSpec, **fields) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        spec_type.model_validate({"enabled": True, **fields}, context=context)
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in caught.value.errors()]


def cache(protect: bool = False, role: str = "cache", spec_type=CacheSpec, **fields):
    cache_spec = spec_type.model_validate({"enabled": True, **fields})
    return run_components(
        lambda: Cache(
            "cache",
            CacheArgs(namespace="shop", identity=IDENTITY, spec=cache_spec, clients=CLIENTS, protect=protect, role=role),
        )
    )


# -- spec and config --------------------------------------------------------------------


def test_defaults_are_a_cache():
    default = spec()
    assert default.maxmemory_policy == "allkeys-lru"
    assert not default.persistence.enabled
    assert "FLUSHALL" in default.disabled_commands and "CONFIG" in default.disabled_commands
    assert default.urls == {"REDIS_URL": 0, "CACHE_REDIS_URL": 1, "RATELIMIT_STORAGE_URL": 3}


def test_the_broker_defaults_keep_every_task():
    broker = BrokerSpec.model_validate({"enabled": True})
    assert broker.maxmemory_policy == "noeviction"
    assert broker.persistence.enabled and broker.persistence.append_only
    assert broker.urls == {"CELERY_BROKER_URL": 0}
    # Giving only a volume size keeps the persistence defaults of a broker.
    sized = BrokerSpec.model_validate({"enabled": True, "persistence": {"storage": {"size": "20Gi"}}})
    assert sized.persistence.append_only and sized.persistence.storage.size == "20Gi"


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({}, "evicts keys under memory pressure (`maxmemoryPolicy` allkeys-lru)"),
        ({"maxmemoryPolicy": "noeviction"}, "loses what was written since the last snapshot"),
        ({"maxmemoryPolicy": "noeviction", "persistence": {"enabled": True}}, "`persistence.appendOnly` is off"),
    ],
)
def test_a_task_queue_on_a_redis_that_drops_writes_is_refused(fields, why):
    [error] = errors(urls={"REDIS_URL": 0, "CELERY_BROKER_URL": 2}, **fields)
    assert "task queue (CELERY_BROKER_URL)" in error and why in error
    assert "broker key" in error


def test_a_task_queue_on_a_safe_redis_is_accepted():
    safe = spec(urls={"CELERY_BROKER_URL": 0}, maxmemoryPolicy="noeviction", persistence={"enabled": True, "appendOnly": True})
    assert safe.urls == {"CELERY_BROKER_URL": 0}


def test_maxmemory_defaults_to_three_quarters_of_the_limit():
    assert config.maxmemory(spec()) == "384mb"
    assert config.maxmemory(spec(maxmemory="256MB")) == "256mb"


def test_maxmemory_leaves_room_for_the_fork_when_snapshots_are_on():
    # 512Mi limit: half of it when a snapshot or AOF rewrite may fork.
    assert config.maxmemory(spec(persistence={"enabled": True})) == "256mb"
    assert config.maxmemory(BrokerSpec.model_validate({"enabled": True})) == "256mb"


@pytest.mark.parametrize(
    ("fields", "share"),
    [
        ({"maxmemory": "480mb"}, "90%"),
        ({"maxmemory": "2gb", "resources": {"limits": {"cpu": "1", "memory": "3Gi"}}, "persistence": {"enabled": True}}, "60%"),
    ],
)
def test_maxmemory_too_close_to_the_limit_is_refused(fields, share):
    [error] = errors(**fields)
    assert f"`maxmemory` ({fields['maxmemory']}) must be at most {share} of `resources.limits.memory`" in error


def test_maxmemory_counts_redis_units():
    from components.cache.spec import redis_memory_bytes

    assert redis_memory_bytes("1k") == 1000 and redis_memory_bytes("1kb") == 1024
    assert redis_memory_bytes("2gb") == 2 * 2**30 and redis_memory_bytes("100") == 100


def test_conf_without_persistence_saves_nothing():
    conf = config.redis_conf(spec())
    assert 'save ""' in conf and "appendonly no" in conf


def test_conf_with_persistence_has_the_rules():
    conf = config.redis_conf(spec(persistence={"enabled": True, "appendOnly": True}))
    assert "save 900 1\nsave 300 10\nsave 60 10000" in conf and "appendonly yes" in conf


def test_conf_holds_no_password():
    assert "pass" not in config.redis_conf(spec()).lower()


def test_acl_denies_the_disabled_commands_to_the_app():
    acl = config.acl_file(spec(disabledCommands=["FLUSHALL", "KEYS"]), "app-pw", "exp-pw")
    default_line = acl.splitlines()[0]
    assert default_line.startswith("user default on #") and default_line.endswith("+@all -flushall -keys")
    assert "app-pw" not in acl  # only hashes


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"maxmemoryPolicy": "sometimes"}, "maxmemoryPolicy"),
        ({"maxmemory": "2 gigabytes"}, "maxmemory"),
        ({"persistence": {"save": ["every minute"]}}, "persistence.save.0"),
        ({"urls": {"REDIS_URL": 16}}, "urls.REDIS_URL"),
        ({"disabledCommands": ["FLUSH ALL"]}, "disabledCommands.0"),
    ],
)
def test_bad_values_are_refused(fields, where):
    [error] = errors(**fields)
    assert error.startswith(f"{where}:")


def test_external_mode_needs_a_redis_url():
    assert "`url` must be a redis://" in errors(mode="external")[0]


def test_production_needs_an_image_digest():
    assert "must carry a digest" in errors(context={"environment": "production"}, image="redis:7.4")[0]


# -- component --------------------------------------------------------------------------


def test_in_cluster_objects():
    recording = cache()
    stateful_set = recording.one("StatefulSet", "shop-redis")
    pod = stateful_set["spec"]["template"]["spec"]
    assert stateful_set["spec"]["replicas"] == 1
    assert [c["name"] for c in pod["containers"]] == ["redis", "exporter"]
    redis = pod["containers"][0]
    assert redis["args"] == ["redis-server", "/etc/redis/redis.conf"]
    assert "redis-cli" in redis["livenessProbe"]["exec"]["command"][2]
    assert "env" not in redis  # no password in the environment
    assert stateful_set["spec"].get("volumeClaimTemplates") is None
    assert {"name": "data", "emptyDir": {}} in pod["volumes"]


def test_persistence_gets_a_retained_volume():
    spec_ = cache(persistence={"enabled": True, "storage": {"size": "20Gi"}}).one("StatefulSet")["spec"]
    assert spec_["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert spec_["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_app_secret_has_a_url_per_purpose():
    [secret] = cache().find("Secret", "shop-redis")
    urls = secret.inputs["stringData"]
    assert urls["RATELIMIT_STORAGE_URL"].startswith("redis://default:")
    assert urls["RATELIMIT_STORAGE_URL"].endswith("@shop-redis.shop.svc.cluster.local:6379/3")
    assert secret.secret_paths == ["stringData"]


def test_the_statefulset_is_governed_by_a_headless_service():
    recording = cache()
    governing = recording.one("StatefulSet", "shop-redis")["spec"]["serviceName"]
    assert governing == "shop-redis-headless"
    assert recording.one("Service", governing)["spec"]["clusterIP"] == "None"
    # Clients keep the stable ClusterIP address their URLs name.
    assert "clusterIP" not in recording.one("Service", "shop-redis")["spec"]


def test_only_the_named_clients_reach_redis():
    policy = cache().one("NetworkPolicy", "shop-redis")["spec"]
    [rule] = policy["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": APP_PODS, "matchExpressions": [
            {"key": "app.kubernetes.io/component", "operator": "In", "values": CLIENTS}]}}
    ]
    assert rule["ports"] == [{"protocol": "TCP", "port": 6379}]
    # Redis itself opens no connection; the closed direction is said by policyTypes alone.
    assert policy["policyTypes"] == ["Ingress", "Egress"] and "egress" not in policy


def test_the_broker_is_a_redis_of_its_own():
    recording = cache(role="broker", spec_type=BrokerSpec)
    stateful_set = recording.one("StatefulSet", "shop-broker")
    assert stateful_set["metadata"]["labels"]["app.kubernetes.io/component"] == "broker"
    assert stateful_set["spec"]["volumeClaimTemplates"]  # AOF and snapshots on a retained volume
    conf = recording.one("ConfigMap", "shop-broker-config")["data"]["redis.conf"]
    assert "maxmemory-policy noeviction" in conf and "appendonly yes" in conf
    urls = recording.one("Secret", "shop-broker")["stringData"]
    assert list(urls) == ["CELERY_BROKER_URL"] and urls["CELERY_BROKER_URL"].endswith("@shop-broker.shop.svc.cluster.local:6379/0")


def test_protected_in_production():
    recording = cache(protect=True)
    kept = [r for r in recording.resources if r.custom and (r.kind in ("StatefulSet", "Secret") or r.type.startswith("random:"))]
    assert len(kept) == 5 and all(r.protect and r.retain_on_delete for r in kept)


def test_external_mode_rewrites_the_database_number():
    recording = cache(mode="external", url="rediss://:tok@cache.abc.use1.cache.amazonaws.com:6380/0")
    assert recording.find("StatefulSet") == []
    urls = recording.one("Secret", "shop-redis")["stringData"]
    assert urls["RATELIMIT_STORAGE_URL"] == "rediss://:tok@cache.abc.use1.cache.amazonaws.com:6380/3"
