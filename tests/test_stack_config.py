"""stack_config.py: every rule names its key, and every problem is reported at once."""

from __future__ import annotations

import json
import re

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


# -- namespace --------------------------------------------------------------------------


def test_stack_named_like_the_app_is_not_doubled_in_the_namespace():
    config = load()
    assert config.namespace_for("shop") == "shop"
    assert config.namespace_for("shop-prod") == "shop-prod"
    # Only a whole name counts: `shopfront` is another word, not `shop` again.
    assert config.namespace_for("shopfront") == "shop-shopfront"


# -- image pinning: one rule, one message ------------------------------------------------


def follow_advice(problem: str, repository: str) -> str:
    """The image a user writes after reading `problem`: the first example reference it
    gives (`app:1.4.2`, `app@sha256:...`), with the user's repository and a real digest."""
    example = re.search(r"\((app[:@][^) ]*)", problem)
    assert example, problem
    return repository + example[1].removeprefix("app").replace("sha256:...", DIGEST)


@pytest.mark.parametrize("image", ["registry.example.com/shop:latest", "registry.example.com/shop"])
def test_production_advice_for_an_unpinned_image_is_a_digest_and_following_it_works(image):
    [problem] = problems(app={**PROD_APP, "image": image}, environment="production")
    assert problem.startswith(f"app.image: '{image}' is not pinned")
    assert "must carry a digest in production (app:1.4.2@sha256:...)" in problem
    fixed = follow_advice(problem, "registry.example.com/shop")
    assert load({**PROD_APP, "image": fixed}, environment="production").app.image == fixed


def test_development_advice_for_an_unpinned_image_is_a_tag_and_following_it_works():
    [problem] = problems(app_with(image="registry.example.com/shop:latest"))
    fixed = follow_advice(problem, "registry.example.com/shop")
    assert fixed == "registry.example.com/shop:1.4.2"
    assert load(app_with(image=fixed)).app.image == fixed


def test_production_unpinned_and_tagged_images_get_the_same_rule():
    [unpinned] = problems(app={**PROD_APP, "image": "registry.example.com/shop:latest"}, environment="production")
    [tagged] = problems(app={**PROD_APP, "image": "registry.example.com/shop:1.4.2"}, environment="production")
    rule = tagged.split("must carry a digest", 1)[1]
    assert unpinned.endswith(rule)


def test_every_image_field_asks_for_a_digest_in_production():
    found = problems(
        app=PROD_APP,
        environment="production",
        database={"enabled": True, "image": "postgres:latest", "exporterImage": "quay.io/x/exporter"},
        cache={"enabled": True, "image": "redis:latest"},
    )
    assert [p.split(":")[0] for p in found] == ["database.image", "database.exporterImage", "cache.image"]
    assert all("must carry a digest in production (app:1.4.2@sha256:...)" in p for p in found)


# -- the command listens where the probes knock -------------------------------------------


@pytest.mark.parametrize(
    ("command", "seen"),
    [
        (["gunicorn", "--bind=0.0.0.0:5000", "app:app"], "--bind=0.0.0.0:5000"),
        (["gunicorn", "--bind", "0.0.0.0:5000", "app:app"], "--bind 0.0.0.0:5000"),
        (["gunicorn", "-b", ":5000", "app:app"], "-b :5000"),
        (["gunicorn", "-b[::]:5000", "app:app"], "-b[::]:5000"),
        (["python", "-m", "gunicorn", "-b", "0.0.0.0:5000", "app:app"], "-b 0.0.0.0:5000"),
        (["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "5000"], "--port 5000"),
        (["uvicorn", "app.main:app", "--port=5000"], "--port=5000"),
        (["hypercorn", "--bind", "0.0.0.0:5000", "app:app"], "--bind 0.0.0.0:5000"),
        (["flask", "run", "--host=0.0.0.0", "-p", "5000"], "-p 5000"),
        (["flask", "run", "--port", "5000"], "--port 5000"),
        (["daphne", "-b", "0.0.0.0", "-p", "5000", "app.asgi:application"], "-p 5000"),
        (["daphne", "--port", "5000", "app.asgi:application"], "--port 5000"),
        (["sh", "-c", "flask db upgrade && exec gunicorn --bind 0.0.0.0:5000 app:app"], "--bind 0.0.0.0:5000"),
    ],
)
def test_command_must_listen_on_the_app_port(command, seen):
    assert problems(app_with(command=command, port=8000)) == [
        f"app.port (8000) must be the port app.command listens on (5000, from '{seen}'): "
        "the probes and the Service connect to app.port"
    ]


@pytest.mark.parametrize(
    "command",
    [
        ["gunicorn", "--bind", "unix:/tmp/app.sock", "app:app"],
        ["uvicorn", "app:app", "--uds", "/tmp/app.sock"],
        ["daphne", "-u", "/tmp/app.sock", "app:application"],
    ],
)
def test_command_must_listen_on_tcp(command):
    [problem] = problems(app_with(command=command))
    assert problem.startswith("app.command listens only on a unix socket")
    assert "the probes and the Service need TCP on app.port (8000)" in problem


@pytest.mark.parametrize(
    "command",
    [
        ["gunicorn", "--bind=127.0.0.1:8000", "app:app"],
        ["uvicorn", "app:app", "--host", "localhost", "--port", "8000"],
        ["flask", "run", "-h", "127.0.0.1", "-p", "8000"],
    ],
)
def test_command_must_not_listen_on_loopback_only(command):
    [problem] = problems(app_with(command=command))
    assert problem.startswith("app.command listens on a loopback address")


@pytest.mark.parametrize(
    "command",
    [
        ["gunicorn", "--bind=0.0.0.0:8000", "app:app"],
        ["gunicorn", "--bind", "unix:/tmp/app.sock", "--bind", "0.0.0.0:8000", "app:app"],
        ["uvicorn", "app:app", "--host=0.0.0.0", "--port=8000"],
        ["sh", "-c", "exec gunicorn -b :8000 app:app"],
        # What the command does not say cannot be checked: a port from the environment or
        # a config file, an address without a port, a shell string that does not parse.
        ["gunicorn", "app:app"],
        ["gunicorn", "--bind", "0.0.0.0:$PORT", "app:app"],
        ["gunicorn", "-c", "gunicorn.conf.py", "app:app"],
        ["hypercorn", "--bind", "0.0.0.0", "app:app"],
        ["sh", "-c", "exec gunicorn -b ':5000 app:app"],
        ["celery", "-A", "app", "worker", "-p", "5000"],
    ],
)
def test_command_that_matches_or_cannot_be_read_is_accepted(command):
    assert load(app_with(command=command)).app.command == command


# -- autoscaling targets ----------------------------------------------------------------


def test_cpu_target_may_exceed_requests():
    app = app_with(replicas={"min": 2, "max": 4}, autoscaling={"cpuUtilization": 300},
                   resources={"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}})
    assert load(app).app.autoscaling.cpu_utilization == 300


def test_cpu_target_has_a_sane_ceiling():
    [problem] = problems(app_with(autoscaling={"cpuUtilization": 501}))
    assert problem.startswith("app.autoscaling.cpuUtilization: Input should be less than or equal to 500")


def test_memory_target_stays_within_requests():
    [problem] = problems(app_with(autoscaling={"memoryUtilization": 101}))
    assert problem.startswith("app.autoscaling.memoryUtilization: Input should be less than or equal to 100")


def test_cpu_target_must_be_reachable_below_the_limit():
    # Limits are twice the requests: pods never average more than 200 % of their CPU request.
    resources = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "2Gi"}}
    app = app_with(replicas={"min": 2, "max": 4}, autoscaling={"cpuUtilization": 190}, resources=resources)
    assert problems(app) == [
        "app.autoscaling.cpuUtilization (190) must be below 100 x app.resources.limits.cpu (1) / "
        "app.resources.requests.cpu (500m) / 1.1 = 181.8: pods never use more than their limit, and the "
        "autoscaler adds pods only when use is over 110 % of its target, so it would never scale up"
    ]
    assert load({**app, "autoscaling": {"cpuUtilization": 181}}).app.autoscaling.cpu_utilization == 181


def test_memory_target_must_be_reachable_below_the_limit():
    resources = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    app = app_with(replicas={"min": 2, "max": 4}, autoscaling={"memoryUtilization": 95}, resources=resources)
    [problem] = problems(app)
    assert problem.startswith(
        "app.autoscaling.memoryUtilization (95) must be below 100 x app.resources.limits.memory (1Gi) / "
        "app.resources.requests.memory (1Gi) / 1.1 = 90.9"
    )


def test_unreachable_target_does_not_matter_without_an_autoscaler():
    resources = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
    assert load(app_with(autoscaling={"cpuUtilization": 95}, resources=resources)).app.replicas.autoscaled is False


# -- probe headers ------------------------------------------------------------------------


def test_no_probe_headers_by_default():
    assert load().app.probe_headers == {}


def test_can_configure_probe_headers():
    headers = {"Host": "shop.example.com", "X-Forwarded-Proto": "https"}
    assert load(app_with(probeHeaders=headers)).app.probe_headers == headers


@pytest.mark.parametrize("name", ["Authorization", "Proxy-Authorization", "Cookie", "X-Api-Key", "X-Auth-Token"])
def test_probe_headers_refuse_credentials(name):
    [problem] = problems(app_with(probeHeaders={name: "x"}))
    assert problem.startswith(f"app.probeHeaders: {name} looks like a credential")


def test_probe_header_names_must_be_http_header_names():
    [problem] = problems(app_with(probeHeaders={"Host name": "x"}))
    assert problem.startswith("app.probeHeaders.Host name (name)")


def test_probe_header_values_are_one_line():
    [problem] = problems(app_with(probeHeaders={"Host": "a\r\nX-Injected: 1"}))
    assert problem.startswith("app.probeHeaders.Host")


def test_probe_header_names_are_not_repeated_in_another_case():
    [problem] = problems(app_with(probeHeaders={"Host": "a", "host": "b"}))
    assert problem.startswith("app.probeHeaders: Host is given twice")


# -- database: the pools fit the server ----------------------------------------------------


def test_pgbouncer_pools_must_fit_max_connections():
    database = {"enabled": True, "tuning": {"max_connections": 200},
                "pgbouncer": {"enabled": True, "replicas": 3, "defaultPoolSize": 150}}
    [problem] = problems(database=database)
    assert problem.startswith(
        "database.pgbouncer.replicas (3) x database.pgbouncer.defaultPoolSize (150) = 450 server "
        "connections, plus 6 outside the pools (superuser_reserved_connections 3, exporter 1, migration 1, "
        "maintenance 1), must be <= database.tuning.max_connections (200): lower "
        "database.pgbouncer.defaultPoolSize to 64 or raise database.tuning.max_connections to 456"
    )


# -- required secrets ------------------------------------------------------------------

PRODUCTION_APP = {**MINIMAL_APP, "image": MINIMAL_APP["image"] + "@sha256:" + "a" * 64, "replicas": {"min": 2, "max": 2}}


def test_missing_required_secrets_stop_production_with_the_command_for_each():
    with pytest.raises(ConfigError) as caught:
        config, secret_keys = config_from({
            "shipyard:environment": "production", "shipyard:app": PRODUCTION_APP,
            "shipyard:secrets": {"required": ["PLAID_SECRET", "OPENAI_API_KEY", "SECRET_KEY"],
                                 "values": {"PLAID_SECRET": {"secure": "v1:x"}}, "generated": ["SECRET_KEY"]},
        })
        stack_config.load(config, "prod", secret_keys)
    [problem] = caught.value.problems
    assert problem.startswith("secrets.required names 1 secret(s) with no value: OPENAI_API_KEY")
    assert "pulumi config set --secret --path 'secrets.values.OPENAI_API_KEY' --stack prod <value>" in problem
    assert "PLAID_SECRET" not in problem.split(":", 1)[1].split(";")[0]


def test_required_secrets_may_be_missing_outside_production():
    assert load(secrets={"required": ["PLAID_SECRET"]}).secrets.required == ["PLAID_SECRET"]


def test_only_generated_keys_rotate():
    assert problems(secrets={"generated": ["SECRET_KEY"], "rotate": {"API_KEY": 1}}) == [
        "secrets.rotate names API_KEY, not in secrets.generated: only generated keys can be rotated"
    ]


@pytest.mark.parametrize("path", ["tmp", "/tmp", "/", "/etc/", "/run/../etc"])
def test_secret_files_go_to_a_directory_of_their_own(path):
    [problem] = problems(secrets={"existing": ["stripe"], "mountPath": path})
    assert problem.startswith(f"secrets.mountPath ({path}) must be an absolute path of its own")


def test_existing_secrets_are_named_once():
    assert problems(secrets={"existing": ["stripe", "stripe"]}) == ["secrets.existing names stripe more than once"]


def test_archived_volumes_are_the_apps_and_ride_with_the_database_backup():
    found = problems(app_with(volumes=[{"name": "uploads", "mountPath": "/data/uploads"}]),
                     database={"enabled": True, "backup": {"enabled": True, "volumes": ["uploads", "media"]}})
    assert "database.backup.volumes names media, not in app.volumes" in found
    found = problems(app_with(volumes=[{"name": "uploads", "mountPath": "/data/uploads"}]),
                     database={"enabled": True, "backup": {"volumes": ["uploads"]}})
    assert any("archived by the database's backup runs" in p for p in found)
