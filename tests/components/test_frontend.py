"""components/frontend: a second web service beside the app, and what it may not reach."""

from __future__ import annotations

import pytest
from safety.reachability import edges

from tests.conftest import run_stack
from tests.test_stack_config import PROD_APP, problems
from tools import gate

FRONTEND = {"image": "ghcr.io/shop/frontend:2.1.0", "command": ["node", "server.js"], "healthPath": "/api/health"}
EDGE = {"enabled": True, "api": "gateway", "controller": "traefik", "tls": {"issuer": "self-signed"},
        "hosts": [{"name": "api.shop.example.com"}, {"name": "shop.example.com", "routes": [{"service": "frontend"}]}]}


@pytest.fixture(scope="module")
def recording():
    return run_stack(frontend=FRONTEND, edge=EDGE, database={"enabled": True}, cache={"enabled": True},
                     network={"ingressNamespace": "traefik"})


def test_it_runs_as_a_web_tier_of_its_own(recording):
    deployment = recording.one("Deployment", "shop-frontend")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "frontend" and labels["app.kubernetes.io/name"] == "shop"
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["node", "server.js"]
    assert container["ports"] == [{"name": "http", "containerPort": 3000, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"]["path"] == "/api/health"
    assert container["securityContext"]["readOnlyRootFilesystem"] and container["securityContext"]["runAsNonRoot"]
    assert recording.one("ConfigMap", "shop-frontend-env")["data"] == {
        "NODE_ENV": "production", "PORT": "3000", "HOSTNAME": "0.0.0.0", "NEXT_TELEMETRY_DISABLED": "1"}


def test_it_reads_none_of_the_apps_secrets(recording):
    [container] = recording.one("Deployment", "shop-frontend")["spec"]["template"]["spec"]["containers"]
    assert container["envFrom"] == [{"configMapRef": {"name": "shop-frontend-env"}}]


def test_only_the_proxy_reaches_it_and_it_reaches_no_data_store(recording):
    found = {(e.source, e.destination, e.port) for e in edges(gate.resources_of(recording))}
    assert {(s, d, p) for s, d, p in found if "frontend" in (s, d)} == {
        ("namespace/traefik", "frontend", 3000),
        ("frontend", "namespace/kube-system", 53),
    }


def test_its_host_routes_to_it_and_the_api_host_to_the_app(recording):
    backends = {route.object_name: [b["name"] for r in route.inputs["spec"]["rules"] for b in r.get("backendRefs") or []]
                for route in recording.find("HTTPRoute")}
    assert backends["shop-h1-root"] == ["shop-frontend"]
    assert backends["shop-root"] == ["shop"]


def test_internet_egress_is_its_own_choice():
    recording = run_stack(frontend={**FRONTEND, "internetEgress": True})
    policy = recording.one("NetworkPolicy", "shop-frontend-egress")["spec"]
    assert policy["podSelector"]["matchExpressions"][0]["values"] == ["frontend"]
    app_egress = [p for p in recording.find("NetworkPolicy") if p.object_name == "shop-egress"]
    assert app_egress == []  # the app itself still has none


def test_no_frontend_without_the_key():
    assert not [o for o in run_stack().find("Deployment") if "frontend" in o.object_name]


@pytest.mark.parametrize(("config", "message"), [
    ({"edge": EDGE}, "edge.hosts[].routes sends requests to frontend, but there is no frontend"),
    ({"frontend": {**FRONTEND, "workers": [{"name": "w", "command": ["x"], "probe": {"command": ["true"]}}]}},
     "frontend.workers: a frontend is one web process"),
    ({"frontend": {**FRONTEND, "command": ["node", "server.js"], "port": 80}}, "frontend.port"),
    ({"frontend": {"command": ["node", "server.js"]}}, "frontend.image"),
])
def test_bad_frontend_config_names_the_key(config, message):
    found = problems(**config)
    assert any(message in p for p in found), found


def test_in_production_its_image_needs_a_digest():
    found = problems(environment="production", app=PROD_APP, frontend={**FRONTEND, "replicas": {"min": 2, "max": 3}})
    assert any(p.startswith("frontend.image (ghcr.io/shop/frontend:2.1.0) must carry a digest") for p in found), found
