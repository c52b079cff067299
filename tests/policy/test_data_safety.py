"""policy/safety/data_safety.py"""

import pytest

from safety import Resource, data_safety

SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}}
PASSWORD = "random:index/randomPassword:RandomPassword"


def secret(**options):
    return Resource(type="kubernetes:core/v1:Secret", name="db", props=SECRET, **options)


def violations(resource, environment="production"):
    return [str(v) for v in data_safety.check([resource], environment).violations]


def test_protected_and_retained_passes():
    assert violations(secret(protect=True, retain_on_delete=True)) == []


def test_unprotected_state_fails_in_production():
    assert violations(secret(retain_on_delete=True)) == ["Secret db: not protected (protect)"]


def test_state_not_retained_on_delete_fails():
    assert violations(secret(protect=True, retain_on_delete=False)) == [
        "Secret db: not retained on delete (retain_on_delete)"
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delete_before_replace": True}, "delete_before_replace is set"),
        ({"replace_on_changes": ("spec",)}, "replace_on_changes is set (spec)"),
    ],
)
def test_delete_first_options_fail(options, message):
    assert violations(secret(protect=True, retain_on_delete=True, **options)) == [f"Secret db: {message}"]


def test_generated_passwords_count_as_state():
    password = Resource(type=PASSWORD, name="db-password", props={"length": 32}, retain_on_delete=False)
    assert violations(password) == [
        "RandomPassword db-password: not protected (protect)",
        "RandomPassword db-password: not retained on delete (retain_on_delete)",
    ]


def test_stateless_objects_are_not_checked():
    config_map = Resource(type="kubernetes:core/v1:ConfigMap", name="env",
                          props={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "env"}})
    assert data_safety.check([config_map], "production").checked == 0


def test_development_may_leave_state_unprotected():
    assert violations(secret(), environment="development") == []


def test_unknown_retention_is_not_a_violation():
    # The policy SDK cannot see retain_on_delete; protect is still checked there.
    assert violations(secret(protect=True, retain_on_delete=None)) == []


STATEFUL_SET = {
    "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
    "spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"}}],
             "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}},
}


def stateful_set(policy):
    props = {**STATEFUL_SET, "spec": {**STATEFUL_SET["spec"], "persistentVolumeClaimRetentionPolicy": policy}}
    return Resource(type="kubernetes:apps/v1:StatefulSet", name="db", props=props, protect=True, retain_on_delete=True)


def test_a_stateful_set_that_keeps_its_volumes_passes():
    assert violations(stateful_set({"whenDeleted": "Retain", "whenScaled": "Retain"})) == []


def test_a_stateful_set_that_deletes_its_volumes_fails():
    assert violations(stateful_set({"whenDeleted": "Delete", "whenScaled": "Retain"})) == [
        "StatefulSet db: volume claims are not retained (whenDeleted: Delete)"
    ]
