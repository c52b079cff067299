"""policy/pack.py: the policy pack runs the same rules, through the policy SDK's types."""

from __future__ import annotations

from pulumi_policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions, StackValidationArgs

from pack import PACK_NAME, POLICIES
from safety import RULES
from tests.policy.fixtures import changed, container_of, deployment
from tools import render


def policy_resource(type_: str, name: str, props: dict, urn: str, protect: bool = False) -> PolicyResource:
    options = PolicyResourceOptions(
        protect=protect, ignore_changes=[], delete_before_replace=False, aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0), additional_secret_outputs=[],
    )
    return PolicyResource(type_, props, urn, name, options, None, None, [], {})


def stack_resources(stack: str) -> list[PolicyResource]:
    recording = render.render(stack)
    return [policy_resource(r.type, r.name, r.inputs, r.urn, r.protect) for r in recording.resources if r.custom]


def run(resources: list[PolicyResource]) -> dict[str, list[tuple[str, str | None]]]:
    found: dict[str, list[tuple[str, str | None]]] = {}
    for policy in POLICIES:
        reported: list[tuple[str, str | None]] = []
        policy.validate(StackValidationArgs(resources), lambda message, urn=None: reported.append((message, urn)))
        found[policy.name] = reported
    return found


def test_one_mandatory_policy_per_rule():
    assert PACK_NAME == "shipyard-safety"
    assert [p.name for p in POLICIES] == [rule.RULE for rule in RULES]
    assert all(p.enforcement_level.value == "mandatory" for p in POLICIES)


def test_the_prod_stack_passes_the_pack():
    assert run(stack_resources("prod")) == {rule.RULE: [] for rule in RULES}


def test_a_privileged_pod_is_reported_against_its_urn():
    bad = changed(deployment(), lambda m: container_of(m)["securityContext"].update(privileged=True))
    urn = "urn:pulumi:prod::shipyard::kubernetes:apps/v1:Deployment::web"
    found = run(stack_resources("prod") + [policy_resource("kubernetes:apps/v1:Deployment", "web", bad, urn)])
    assert ("Deployment web: container web: privileged", urn) in found["pod-security"]
    assert any("CKV_K8S_16" in message for message, _ in found["hardening"])


def test_protect_comes_from_the_policy_sdk_options():
    resources = stack_resources("prod")
    unprotected = [
        policy_resource(r.resource_type, r.name, r.props, r.urn, protect=False) if r.props.get("kind") == "Secret" else r
        for r in resources
    ]
    messages = sorted(m for m, _ in run(unprotected)["data-safety"])
    assert messages == sorted(
        f"Secret {name}: not protected (protect)"
        for name in ("blockscore-backup-offsite", "blockscore-broker", "blockscore-broker-server", "blockscore-db",
                     "blockscore-db-server",
                     "blockscore-redis", "blockscore-redis-server", "blockscore-secrets")
    )


# -- previews: unknown values, secret data, and a rule that fails ---------------------------------

def as_preview(props: dict) -> dict:
    """What the SDK hands a policy during a preview: unknown values checked by its proxy."""
    from pulumi_policy import proxy

    return proxy.unknown_checking_proxy(props)


def test_unknown_values_become_placeholders_and_every_rule_still_runs():
    from pulumi_policy import proxy

    import pack

    unknown = {"metadata": {"name": proxy.UNKNOWN_STRING_VALUE}, "spec": {"replicas": proxy.UNKNOWN_NUMBER_VALUE}}
    assert pack.known(as_preview(unknown)) == {"metadata": {"name": pack.UNKNOWN}, "spec": {"replicas": 0}}


def test_no_rule_sees_a_secret_value():
    from types import SimpleNamespace

    import pack
    from safety import Report

    seen: list[str] = []
    spy = SimpleNamespace(
        RULE="spy", TITLE="records what rules see",
        check=lambda resources, environment: seen.append(repr([r.props for r in resources])) or Report("spy", "spy"),
    )
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"API_KEY": "sentinel-4c1d"}}
    resource = policy_resource("kubernetes:core/v1:Secret", "s", as_preview(secret), "urn:s")
    pack.policy_for(spy).validate(StackValidationArgs([resource]), lambda message, urn=None: None)
    assert "API_KEY" in seen[0] and "sentinel-4c1d" not in seen[0]


def test_a_rule_that_cannot_run_is_a_violation(monkeypatch):
    import pack
    from safety import reliability

    def broken(resources, environment):
        raise KeyError("spec")

    monkeypatch.setattr(reliability, "check", broken)
    reported = []
    pack.policy_for(reliability).validate(StackValidationArgs(stack_resources("dev")), lambda m, urn=None: reported.append(m))
    assert reported == ["policy reliability could not run: KeyError: 'spec'"]
