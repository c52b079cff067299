"""stack_config.py: every rule names its key, and every problem is reported at once."""

from __future__ import annotations

import json

import pytest

import stack_config
from stack_config import ConfigError
from tests.conftest import MINIMAL_APP
from tools.recording import Recording, run_program
from tools.stacks import config_from


def load(app: dict | None = None, **top_level) -> stack_config.StackConfig:
    values = {"shipyard:app": MINIMAL_APP if app is None else app}
    values.update({f"shipyard:{k}": v for k, v in top_level.items()})
    config, _ = config_from(values)
    return stack_config.load(config, "test")


def problems(app: dict | None = None, **top_level) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(app, **top_level)
    return caught.value.problems


def app_with(**fields) -> dict:
    return {**MINIMAL_APP, **fields}


def worker(**fields) -> dict:
    return {"name": "celery", "command": ["celery", "worker"], "probe": {"command": ["true"]}, **fields}


# -- defaults and overrides ----------------------------------------------------------


def test_defaults_come_from_pulumi_yaml_and_specs():
    config = load()
    assert config.environment == "development"
    assert config.namespace_for("dev") == "shop-dev"
    assert config.network.ingress_namespace == "ingress-nginx"
    assert config.network.internet_egress is False
    assert config.app.port == 8000
    assert config.app.replicas.min == config.app.replicas.max == 1


def test_can_configure_namespace_and_environment():
    config = load(PROD_APP, namespace="shop", environment="production")
    assert config.namespace_for("prod") == "shop"
    assert config.environment == "production"


def test_config_is_frozen():
    config = load()
    with pytest.raises(Exception):
        config.app.port = 9000  # type: ignore[misc]


def test_explicit_zero_is_kept_not_replaced_by_default():
    assert load(app_with(preStopSeconds=0)).app.pre_stop_seconds == 0


# -- one test per rule ------------------------------------------------------------------


def test_replicas_max_must_not_be_below_min():
    assert problems(app_with(replicas={"min": 3, "max": 2})) == [
        "app.replicas.max (2) must be >= app.replicas.min (3)"
    ]


DIGEST = "sha256:" + "a" * 64
PROD_APP = {**MINIMAL_APP, "image": f"{MINIMAL_APP['image']}@{DIGEST}", "replicas": {"min": 2, "max": 2}}


def test_production_needs_two_web_replicas():
    assert problems(app={**PROD_APP, "replicas": {"min": 1, "max": 1}}, environment="production") == [
        "app.replicas.min (1) must be >= 2 in production, so the app survives a node loss"
    ]


def test_production_needs_an_image_digest():
    [problem] = problems(app={**PROD_APP, "image": MINIMAL_APP["image"]}, environment="production")
    assert problem.startswith(f"app.image ({MINIMAL_APP['image']}) must carry a digest in production")


def test_production_accepts_an_image_it_builds_and_pushes():
    app = {**PROD_APP, "image": MINIMAL_APP["image"], "build": {"push": True}}
    assert load(app, environment="production").app.build is not None


def test_development_accepts_a_tag_alone():
    assert load().app.image == MINIMAL_APP["image"]


def test_production_needs_two_replicas_of_each_worker():
    app = {**PROD_APP, "workers": [worker(replicas=1)]}
    assert problems(app, environment="production") == [
        "app.workers[0].replicas (1) must be >= 2 in production, so the worker survives a node loss"
    ]


def test_scheduler_must_be_a_singleton():
    app = app_with(workers=[worker(name="beat", role="scheduler", replicas=2)])
    [problem] = problems(app)
    assert problem.startswith("app.workers[0].replicas (2) must be 1 for app.workers[0].role scheduler")


def test_scheduler_singleton_is_allowed_in_production():
    app = {**PROD_APP, "workers": [worker(name="beat", role="scheduler")]}
    assert load(app, environment="production").app.workers[0].singleton


def test_worker_names_must_be_unique():
    assert problems(app_with(workers=[worker(), worker()])) == [
        "app.workers names must be unique; repeated: celery"
    ]


def test_image_must_be_pinned():
    for image in ("shop", "shop:latest", "registry.example.com/shop"):
        [problem] = problems(app_with(image=image))
        assert problem.startswith(f"app.image: '{image}' is not pinned")


def test_image_may_be_pinned_by_digest():
    digest = "sha256:" + "a" * 64
    assert load(app_with(image=f"registry.example.com/shop@{digest}")).app.version.startswith("sha256-")


def test_limits_must_cover_requests():
    resources = {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
    assert problems(app_with(resources=resources)) == [
        "app.resources.limits.cpu (1) must be >= app.resources.requests.cpu (2)"
    ]


def test_quantities_must_parse():
    resources = {"requests": {"cpu": "lots", "memory": "256XB"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    found = problems(app_with(resources=resources))
    assert [p.split(":")[0] for p in found] == [
        "app.resources.requests.cpu",
        "app.resources.requests.memory",
    ]


def test_memory_in_millibytes_is_caught():
    resources = {"requests": {"cpu": "1", "memory": "256m"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    [problem] = problems(app_with(resources=resources))
    assert "app.resources.requests.memory: '256m' is under 1Mi" in problem


def test_privileged_ports_are_refused():
    [problem] = problems(app_with(port=80))
    assert problem.startswith("app.port: Input should be greater than or equal to 1024")


def test_secret_looking_env_is_refused():
    [problem] = problems(app_with(env={"PLAID_SECRET": "x", "LOG_LEVEL": "INFO"}))
    assert problem.startswith("app.env: PLAID_SECRET looks like a credential")


def test_settings_that_only_mention_a_token_are_plain_env():
    assert load(app_with(env={"ACCESS_TOKEN_EXPIRE_MINUTES": "30"})).app.env["ACCESS_TOKEN_EXPIRE_MINUTES"] == "30"


def test_env_names_must_be_valid():
    [problem] = problems(app_with(env={"LOG-LEVEL": "INFO"}))
    assert problem.startswith("app.env.LOG-LEVEL (name)")


def test_probe_timeout_must_be_below_period():
    app = app_with(workers=[worker(probe={"command": ["true"], "periodSeconds": 10, "timeoutSeconds": 10})])
    assert problems(app) == [
        "app.workers[0].probe.timeoutSeconds (10) must be < app.workers[0].probe.periodSeconds (10)"
    ]


def test_unknown_keys_are_errors_with_a_suggestion():
    assert problems(app_with(replcas={"min": 2})) == [
        "app.replcas: unknown key; did you mean app.replicas?"
    ]


def test_unknown_top_level_keys_are_errors():
    assert problems(ingres={}) == ["ingres: unknown key"]


def test_unknown_config_namespace_is_an_error():
    config, _ = config_from({"shipyard:app": MINIMAL_APP, "shipyrd:environment": "production"})
    with pytest.raises(ConfigError) as caught:
        stack_config.load(config, "test")
    assert caught.value.problems == [
        "shipyrd:environment: unknown config namespace 'shipyrd' (this project's is 'shipyard')"
    ]


def test_provider_namespaces_are_allowed():
    config, _ = config_from({"shipyard:app": MINIMAL_APP, "kubernetes:context": "kind-dev"})
    assert stack_config.load(config, "test").app.name == "shop"


def test_app_is_required():
    config, _ = config_from({})
    with pytest.raises(ConfigError) as caught:
        stack_config.load(config, "test")
    assert caught.value.problems == ["app: required"]


def test_environment_is_a_closed_choice():
    [problem] = problems(environment="prod")
    assert problem.startswith("environment: Input should be 'development', 'staging' or 'production'")


def test_namespace_must_be_a_dns_label():
    [problem] = problems(namespace="Shop_Prod")
    assert problem.startswith("namespace:")


def test_object_keys_must_be_json_objects():
    config, _ = config_from({"shipyard:app": MINIMAL_APP})
    config["shipyard:network"] = "{not json"
    with pytest.raises(ConfigError) as caught:
        stack_config.load(config, "test")
    assert caught.value.problems[0].startswith("network: not a valid object")


# -- the whole message -----------------------------------------------------------------


FIVE_MISTAKES = {
    "shipyard:environment": "production",
    "shipyard:app": {
        "name": "shop",
        "image": "registry.example.com/shop:latest",
        "replicas": {"min": 3, "max": 2},
        "port": 80,
        "workers": [worker(name="beat", role="scheduler", replicas=3)],
    },
    "shipyard:network": {"ingressNamespce": "nginx"},
}


def test_five_mistakes_make_one_error_naming_all_five_keys():
    config, _ = config_from(FIVE_MISTAKES)
    with pytest.raises(ConfigError) as caught:
        stack_config.load(config, "prod")
    message = str(caught.value)
    assert message.startswith("invalid config for stack 'prod' (5 problems); nothing was deployed:")
    for key in (
        "app.image:",
        "app.replicas.max (2) must be >= app.replicas.min (3)",
        "app.port:",
        "app.workers[0].replicas (3) must be 1",
        "network.ingressNamespce: unknown key; did you mean network.ingressNamespace?",
    ):
        assert key in message


def test_bad_config_registers_nothing():
    recording = Recording()
    config, _ = config_from(FIVE_MISTAKES)
    with pytest.raises(ConfigError):
        run_program("prod", config, recording=recording)
    assert recording.resources == []


def test_good_config_registers_resources():
    # The counterpart of the test above: the same recording does see a valid stack.
    recording = Recording()
    config, _ = config_from({"shipyard:app": MINIMAL_APP})
    run_program("dev", config, recording=recording)
    assert recording.find("Deployment")


def test_config_error_is_a_pulumi_run_error():
    # The language host prints a RunError's message alone, without a traceback.
    import pulumi

    assert issubclass(ConfigError, pulumi.RunError)


def test_object_values_arrive_as_json_text():
    config, _ = config_from({"shipyard:app": MINIMAL_APP})
    assert json.loads(config["shipyard:app"]) == MINIMAL_APP


# -- secrets ---------------------------------------------------------------------------


def test_no_secrets_by_default():
    assert load().secrets.empty


def test_secret_values_must_be_encrypted_in_the_stack_file():
    assert problems(secrets={"values": {"PLAID_SECRET": "in-clear"}}) == [
        "secrets.values: stored in clear text; set it with "
        "`pulumi config set --secret --path 'secrets.values.NAME' VALUE`"
    ]


def test_encrypted_secret_values_are_accepted_and_masked():
    config, secret_keys = config_from(
        {"shipyard:app": MINIMAL_APP, "shipyard:secrets": {"values": {"PLAID_SECRET": {"secure": "v1:abc"}}}}
    )
    loaded = stack_config.load(config, "test", secret_keys)
    assert "PLAID_SECRET" in loaded.secrets.values
    assert "placeholder" not in repr(loaded.secrets)


def test_secret_names_are_not_repeated():
    assert problems(secrets={"generated": ["SECRET_KEY", "SECRET_KEY"]}) == [
        "secrets.generated names must be unique; repeated: SECRET_KEY"
    ]


def test_secret_name_cannot_be_both_given_and_generated():
    config, secret_keys = config_from(
        {"shipyard:app": MINIMAL_APP,
         "shipyard:secrets": {"values": {"SECRET_KEY": {"secure": "v1:x"}}, "generated": ["SECRET_KEY"]}}
    )
    with pytest.raises(ConfigError) as caught:
        stack_config.load(config, "test", secret_keys)
    assert caught.value.problems == ["SECRET_KEY is in both secrets.values and secrets.generated; keep one"]
