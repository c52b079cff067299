"""The safety gate on every stack: all rules pass, with only the skips the README explains."""

from __future__ import annotations

import json

import pytest

from components.annotations import SINGLETON
from components.backend.component import ENV_SECRETS_SKIP, SCHEDULER_REASON
from components.backup.component import SKIPS as BACKUP_SKIPS
from components.cache.component import SINGLE_PRIMARY as REDIS_PRIMARY
from components.database.component import SINGLE_PRIMARY
from components.datastore import UID_SKIP
from components.namespace import ENVIRONMENT_LABEL
from safety import model, stack_environment
from tools import gate, render
from tools.recording import run_program
from tools.stacks import config_for, stack_names


@pytest.fixture(scope="module", params=stack_names())
def reports(request):
    recording = render.render(request.param)
    return request.param, {r.rule: r for r in gate.run_gate(recording)}


def test_every_stack_passes_every_rule(reports):
    stack, by_rule = reports
    failures = {rule: [str(v) for v in r.violations] for rule, r in by_rule.items() if r.violations}
    assert failures == {}


def test_every_rule_checked_something(reports):
    stack, by_rule = reports
    for rule in ("hardening", "pod-security", "reliability", "secret-exposure", "network-isolation"):
        assert by_rule[rule].checked > 0, rule


def test_prod_skips_are_the_explained_ones():
    by_rule = {r.rule: r for r in gate.run_gate(render.render("prod"))}
    justified = {value.partition("=")[::2] for skips in (ENV_SECRETS_SKIP, UID_SKIP, BACKUP_SKIPS) for value in skips.values()}
    assert {(e.what, e.reason) for e in by_rule["hardening"].exemptions} == justified
    assert sorted((e.resource, e.reason) for e in by_rule["reliability"].exemptions) == [
        ("Deployment blockscore-beat", SCHEDULER_REASON),
        ("StatefulSet blockscore-broker", REDIS_PRIMARY),
        ("StatefulSet blockscore-db", SINGLE_PRIMARY),
        ("StatefulSet blockscore-redis", REDIS_PRIMARY),
    ]
    assert by_rule["data-safety"].checked >= 4  # namespace, app Secret, two generated keys


def test_the_stack_environment_is_read_from_the_namespace():
    recording = render.render("prod")
    assert stack_environment(gate.resources_of(recording)) == "production"
    assert stack_environment(gate.resources_of(render.render("dev"))) == "development"


def test_components_and_rules_agree_on_their_markers():
    assert SINGLETON == model.SINGLETON_ANNOTATION
    assert ENVIRONMENT_LABEL == model.ENVIRONMENT_LABEL


# -- rule 6: secret values go nowhere but Secrets and secret outputs -----------------------------

CONFIG_SENTINEL = "sentinel-from-config-7f3a9c"
GENERATED_SENTINEL = "sentinel-generated-2b8e41"


def leaks(recording) -> list[str]:
    found = []
    for resource in recording.resources:
        text = json.dumps(resource.inputs)
        if CONFIG_SENTINEL not in text and GENERATED_SENTINEL not in text:
            continue
        if resource.inputs.get("kind") == "Secret" or resource.type.startswith("random:"):
            if not resource.secret_paths:
                found.append(f"{resource.name}: holds a secret without marking it")
            continue
        found.append(f"{resource.type} {resource.name}")
    for key, value in recording.outputs.items():
        if (CONFIG_SENTINEL in json.dumps(value) or GENERATED_SENTINEL in json.dumps(value)) and key not in recording.secret_outputs:
            found.append(f"output {key}")
    return found


def run_with_sentinels(stack: str, **extra_values):
    """The stack with a sentinel in every secret config value and as every generated key."""
    config, secret_keys = config_for(stack)
    secrets = json.loads(config.get("shipyard:secrets", "{}"))
    secrets["values"] = {name: CONFIG_SENTINEL for name in ("PLAID_SECRET", "OPENAI_API_KEY", *secrets.get("values", {}))}
    config["shipyard:secrets"] = json.dumps(secrets)
    secret_keys = sorted({*secret_keys, "shipyard:secrets"})
    return run_program(stack, config, secret_keys=secret_keys, generated_password=GENERATED_SENTINEL)


@pytest.mark.parametrize("stack", stack_names())
def test_secret_values_appear_only_in_secrets(stack):
    recording = run_with_sentinels(stack)
    secrets = [r for r in recording.resources if r.inputs.get("kind") == "Secret"]
    # The sentinels did reach the program: config values and generated keys alike.
    assert any(CONFIG_SENTINEL in json.dumps(s.inputs) for s in secrets)
    assert any(GENERATED_SENTINEL in json.dumps(s.inputs) for s in secrets)
    assert leaks(recording) == []


def test_the_leak_check_catches_a_leak():
    def leaky():
        import pulumi
        import pulumi_kubernetes as k8s

        k8s.core.v1.ConfigMap("env", metadata={"name": "env"}, data={"KEY": CONFIG_SENTINEL})
        pulumi.export("plain", CONFIG_SENTINEL)

    assert leaks(run_program("test", {}, program=leaky)) == ["kubernetes:core/v1:ConfigMap env", "output plain"]


def test_kubernetes_secrets_are_always_marked_secret():
    # What the leak check relies on: the SDK marks Secret data secret even from plain input.
    def plain_secret():
        import pulumi_kubernetes as k8s

        k8s.core.v1.Secret("s", metadata={"name": "s"}, string_data={"KEY": CONFIG_SENTINEL})

    [secret] = run_program("test", {}, program=plain_secret).resources
    assert secret.secret_paths == ["stringData"]
