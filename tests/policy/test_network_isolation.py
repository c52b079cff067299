"""policy/safety/reachability.py and network_isolation.py, on hand-made policies."""

from __future__ import annotations

from typing import Any

from safety import network_isolation
from safety.reachability import Edge, edges, selector_matches
from tests.policy.fixtures import k8s

NS = "shop"
APP = {"app.kubernetes.io/name": "shop"}


def workload(component: str, kind: str = "Deployment", port: int | None = None) -> dict[str, Any]:
    labels = {**APP, "app.kubernetes.io/component": component}
    container: dict[str, Any] = {"name": component, "image": "x"}
    if port:
        container["ports"] = [{"name": "main", "containerPort": port, "protocol": "TCP"}]
    return {
        "apiVersion": "apps/v1", "kind": kind, "metadata": {"name": component, "namespace": NS},
        "spec": {"selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}},
    }


def policy(name: str, selector: dict[str, Any], types: list[str], ingress=None, egress=None) -> dict[str, Any]:
    spec: dict[str, Any] = {"podSelector": selector, "policyTypes": types}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": NS}, "spec": spec}


def components(*names: str) -> dict[str, Any]:
    return {"matchLabels": APP, "matchExpressions": [{"key": "app.kubernetes.io/component", "operator": "In", "values": list(names)}]}


DENY_ALL = policy("deny", {}, ["Ingress", "Egress"])
INTERNET = {"to": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"]}}]}
DB_CLIENTS = policy("db", {"matchLabels": {**APP, "app.kubernetes.io/component": "database"}}, ["Ingress", "Egress"],
                    ingress=[{"from": [{"podSelector": components("web")}], "ports": [{"port": 5432}]}])
WEB_EGRESS = [{"to": [{"podSelector": {"matchLabels": {"app.kubernetes.io/component": "database"}}}], "ports": [{"port": 5432}]}, INTERNET]


def stack(*manifests) -> list:
    return [k8s(m) for m in (workload("web", port=8000), workload("database", "StatefulSet", 5432), DENY_ALL, *manifests)]


def findings(resources) -> list[str]:
    return [str(v) for v in network_isolation.check(resources, "production").violations]


def test_selectors_follow_kubernetes():
    labels = {"a": "1", "b": "2"}
    assert selector_matches({}, labels)
    assert selector_matches({"matchLabels": {"a": "1"}, "matchExpressions": [{"key": "b", "operator": "In", "values": ["2", "3"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "b", "operator": "NotIn", "values": ["2"]}]}, labels)
    assert not selector_matches({"matchExpressions": [{"key": "c", "operator": "Exists"}]}, labels)
    assert selector_matches({"matchExpressions": [{"key": "c", "operator": "DoesNotExist"}]}, labels)


def test_a_connection_needs_egress_at_the_source_and_ingress_at_the_destination():
    only_egress = stack(policy("web", components("web"), ["Egress"], egress=WEB_EGRESS))
    assert Edge("web", "database", 5432) not in edges(only_egress)
    both = stack(DB_CLIENTS, policy("web", components("web"), ["Egress"], egress=WEB_EGRESS))
    assert Edge("web", "database", 5432) in edges(both)
    assert Edge("web", "internet", "*") in edges(both)


def test_an_ip_block_that_excepts_private_ranges_reaches_no_pod():
    found = edges(stack(policy("open", {}, ["Ingress"], ingress=[{}]), policy("web", components("web"), ["Egress"], egress=[INTERNET])))
    assert Edge("web", "database", 5432) not in found
    wide = edges(stack(policy("open", {}, ["Ingress"], ingress=[{}]), policy("web", components("web"), ["Egress"], egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}])))
    assert Edge("web", "database", 5432) in wide


def test_a_policy_for_every_app_pod_lets_the_data_server_out():
    # Selecting by the app's labels alone also selects its database: policies add up,
    # so the database's own closed egress no longer holds.
    leaky = stack(DB_CLIENTS, policy("egress", {"matchLabels": APP}, ["Egress"], egress=WEB_EGRESS))
    assert "StatefulSet pods database: is a server (other pods connect to it) but may reach the internet (database -> internet:*)" in findings(leaky)
    exact = stack(DB_CLIENTS, policy("egress", components("web"), ["Egress"], egress=WEB_EGRESS))
    assert findings(exact) == []


def test_a_pod_no_policy_selects_is_open():
    resources = [k8s(workload("web", port=8000)), k8s(policy("web", components("web"), ["Ingress"], ingress=[]))]
    assert findings(resources) == ["Deployment pods web: no NetworkPolicy limits its egress: every connection is allowed"]


def test_a_data_server_may_not_dial_another_pod():
    database_out = policy("db-out", {"matchLabels": {"app.kubernetes.io/component": "database"}}, ["Egress"],
                          egress=[{"to": [{"podSelector": components("web")}]}])
    web_in = policy("web-in", components("web"), ["Ingress"], ingress=[{"from": [{"podSelector": {}}]}])
    assert "StatefulSet pods database: is a data server but may open connections (database -> web:8000)" in findings(
        stack(database_out, web_in)
    )


def test_a_standby_may_stream_from_its_primary_and_nothing_else():
    replica = workload("database-replica", "StatefulSet", 5432)
    replica_out = policy("replica", components("database-replica"), ["Ingress", "Egress"],
                         egress=[{"to": [{"podSelector": components("database")}], "ports": [{"port": 5432}]}])
    primary_in = policy("db-in", {"matchLabels": {**APP, "app.kubernetes.io/component": "database"}}, ["Ingress"],
                        ingress=[{"from": [{"podSelector": components("database-replica")}], "ports": [{"port": 5432}]}])
    assert findings(stack(replica, replica_out, primary_in)) == []
    to_web = policy("replica-web", components("database-replica"), ["Egress"], egress=[{"to": [{"podSelector": components("web")}]}])
    web_in = policy("web-in", components("web"), ["Ingress"], ingress=[{"from": [{"podSelector": {}}]}])
    assert "StatefulSet pods database-replica: is a data server but may open connections (database-replica -> web:8000)" in findings(
        stack(replica, replica_out, primary_in, to_web, web_in)
    )
