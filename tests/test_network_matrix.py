"""Who may connect to whom in each stack, computed from its rendered NetworkPolicies.

Both ends must allow a connection and policies add up, so this is what the cluster
would enforce, not what each policy looks like on its own. The matrices are spelled
out: a policy that selects more pods than it means shows up as an extra line.
"""

from __future__ import annotations

import pytest

from safety.reachability import edges
from tools import gate, render
from tools.stacks import stack_names

DNS = ("namespace/kube-system", 53)
EVERY_PORT = "*"


def matrix(stack: str) -> set[tuple[str, str, object]]:
    return {(e.source, e.destination, e.port) for e in edges(gate.resources_of(render.render(stack)))}


def reaches(source: str, *targets: tuple[str, object]) -> set[tuple[str, str, object]]:
    return {(source, destination, port) for destination, port in targets}


def test_prod():
    app_pods = ("web", "worker-celery", "worker-beat")
    stores = [("database", 5432), ("cache", 6379), ("broker", 6379)]
    expected = {
        *(edge for pod in app_pods for edge in reaches(pod, *stores, ("internet", EVERY_PORT), DNS)),
        # The migration talks to the database only; the cache and broker refuse it.
        *reaches("migration", ("database", 5432), ("internet", EVERY_PORT), DNS),
        # Data servers open nothing but DNS.
        *reaches("database", DNS), *reaches("cache", DNS), *reaches("broker", DNS),
        # Backups reach the database and the object store (HTTPS); the drill, nothing.
        *reaches("backup", ("database", 5432), ("internet", 443), DNS),
        *reaches("restore-drill", DNS),
        ("namespace/envoy-gateway-system", "web", 5000),
        ("namespace/monitoring", "web", 5000),  # the app's own /metrics
        ("namespace/monitoring", "database", 9187),
        ("namespace/monitoring", "cache", 9121),
        ("namespace/monitoring", "broker", 9121),
    }
    assert matrix("prod") == expected


def test_loan_lifecycle_writes_through_the_pooler_and_reads_from_the_replica():
    expected = {
        # Writes go through the pooler; the read URL goes to the standby itself.
        *reaches("web", ("pooler", 6432), ("database-replica", 5432), DNS),
        *reaches("migration", ("database", 5432), DNS),
        *reaches("pooler", ("database", 5432), DNS),
        *reaches("database", DNS),
        # The standby streams from the primary and reaches nothing else.
        *reaches("database-replica", ("database", 5432), DNS),
        # The nightly dump goes to its volume only (no off-site copy here); the drill reaches nothing.
        *reaches("backup", ("database", 5432), DNS),
        *reaches("restore-drill", DNS),
        ("namespace/traefik", "web", 8000),
        ("namespace/monitoring", "database", 9187),
        ("namespace/monitoring", "database-replica", 9187),
    }
    assert matrix("loan-lifecycle") == expected


def test_dev_has_no_internet_egress():
    expected = {
        *reaches("web", ("database", 5432), ("cache", 6379), DNS),
        *reaches("database", DNS), *reaches("cache", DNS),
        ("namespace/ingress-nginx", "web", 5000),
        ("namespace/monitoring", "database", 9187),
        ("namespace/monitoring", "cache", 9121),
    }
    assert matrix("dev") == expected


@pytest.mark.parametrize("stack", stack_names())
def test_policies_send_no_empty_rule_list(stack):
    # The API server drops `ingress: []` / `egress: []` when it stores a policy, so every
    # apply would see a change and bump the generation; policyTypes alone closes a direction.
    for policy in render.render(stack).find("NetworkPolicy"):
        spec = policy.inputs["spec"]
        assert spec.get("ingress", None) != [] and spec.get("egress", None) != [], policy.object_name
        assert spec["policyTypes"], policy.object_name
