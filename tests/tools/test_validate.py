"""tools/validate.py: the schema check catches what the API server would refuse."""

import copy

import pytest

from tools import validate

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:1"}]},
        },
    },
}


def broken(change) -> dict:
    manifest = copy.deepcopy(DEPLOYMENT)
    change(manifest)
    return manifest


def test_a_valid_object_passes_for_every_version():
    assert validate.problems([DEPLOYMENT]) == []


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda m: m["spec"].update(replicas="3"), "spec.replicas"),
        (lambda m: m["spec"]["template"]["spec"]["containers"][0].update(livenessProbe={"bogus": 1}), "livenessProbe"),
        (lambda m: m["spec"].update(replica=3), "'replica' was unexpected"),
    ],
)
def test_wrong_types_and_unknown_fields_fail_on_both_versions(change, where):
    found = validate.problems([broken(change)])
    assert len(found) == len(validate.KUBERNETES_VERSIONS)
    assert all(where in line for line in found)


def test_a_kind_without_a_schema_is_an_error():
    found = validate.problems([{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}])
    assert found and "no CRD schema for example.com/v1 Widget" in found[0]


def test_a_field_removed_from_the_api_fails():
    # extensions/v1beta1 Deployments were removed in Kubernetes 1.16.
    old = {**DEPLOYMENT, "apiVersion": "extensions/v1beta1"}
    assert validate.problems([old])
