"""components/addons: cluster add-ons as pinned Helm releases, and what waits for them."""

from __future__ import annotations

import pytest
import yaml

from components.addons.charts import ALL, CHARTS_DIR
from components.addons.component import merged
from tests.conftest import MINIMAL_APP, run_stack
from tests.test_stack_config import problems

EDGE = {"enabled": True, "api": "gateway", "controller": "envoy-gateway", "hosts": [{"name": "shop.example.com"}],
        "tls": {"issuer": "acme", "acmeEmail": "ops@example.com"}}
ALL_ON = {"certManager": {"enabled": True}, "edgeController": {"enabled": True}, "prometheusStack": {"enabled": True}}


def releases(recording) -> dict[str, dict]:
    return {r.inputs["name"]: r for r in recording.resources if r.type == "kubernetes:helm.sh/v3:Release"}


def test_nothing_is_installed_by_default():
    assert releases(run_stack(edge=EDGE, monitoring={"enabled": True})) == {}


def test_every_chart_is_pinned_and_has_the_projects_values():
    for chart in ALL:
        assert chart.version and chart.version not in ("latest", "*")
        assert isinstance(yaml.safe_load(chart.values_file.read_text()), dict), chart.name
    assert sorted(p.name for p in CHARTS_DIR.iterdir() if p.is_dir()) == sorted(c.name for c in ALL)


def test_each_add_on_is_a_release_in_the_namespace_the_policies_name():
    recording = run_stack(edge=EDGE, monitoring={"enabled": True}, addons=ALL_ON,
                          network={"ingressNamespace": "envoy-gateway-system", "metricsNamespace": "observability"})
    found = releases(recording)
    assert set(found) == {"cert-manager", "envoy-gateway", "monitoring"}
    cert_manager = found["cert-manager"].inputs
    assert (cert_manager["chart"], cert_manager["version"], cert_manager["namespace"]) == ("cert-manager", "v1.21.2", "cert-manager")
    assert cert_manager["repositoryOpts"] == {"repo": "https://charts.jetstack.io"}
    assert cert_manager["values"]["crds"] == {"enabled": True, "keep": True}
    assert cert_manager["atomic"] and cert_manager["createNamespace"]
    envoy = found["envoy-gateway"].inputs
    assert (envoy["chart"], envoy["namespace"]) == ("oci://docker.io/envoyproxy/gateway-helm", "envoy-gateway-system")
    assert "repositoryOpts" not in envoy
    stack = found["monitoring"].inputs
    assert (stack["chart"], stack["namespace"]) == ("kube-prometheus-stack", "observability")


def test_the_edge_controller_chart_follows_edge_controller():
    for controller, chart in (("traefik", "traefik"), ("nginx", "ingress-nginx")):
        ingress = {"api": "ingress", "securityHeaders": None} if controller == "nginx" else {}
        edge = {**EDGE, "controller": controller, **ingress}
        found = releases(run_stack(edge=edge, addons={"edgeController": {"enabled": True}}))
        [release] = found.values()
        assert release.inputs["chart"] == chart


def test_issuers_routes_and_monitors_wait_for_their_release():
    recording = run_stack(app={**MINIMAL_APP, "replicas": {"min": 2, "max": 3}}, edge=EDGE,
                          monitoring={"enabled": True}, addons=ALL_ON)
    found = {name: r.urn for name, r in releases(recording).items()}
    for kind in ("ClusterIssuer", "Certificate", "Gateway", "HTTPRoute"):
        for resource in recording.find(kind):
            assert {found["cert-manager"], found["envoy-gateway"]} <= set(resource.dependencies), (kind, resource.name)
    for kind in ("PrometheusRule",):
        [rule] = recording.find(kind)
        assert found["monitoring"] in rule.dependencies


def test_values_from_config_merge_over_the_projects():
    recording = run_stack(edge=EDGE, addons={"certManager": {"enabled": True, "values": {"crds": {"keep": False},
                                                                                         "replicaCount": 3}}})
    values = releases(recording)["cert-manager"].inputs["values"]
    assert values["crds"] == {"enabled": True, "keep": False} and values["replicaCount"] == 3
    assert values["webhook"]["replicaCount"] == 2


def test_merge_keeps_what_is_not_overridden():
    assert merged({"a": {"b": 1, "c": 2}, "d": [1]}, {"a": {"c": 3}, "d": [2]}) == {"a": {"b": 1, "c": 3}, "d": [2]}


@pytest.mark.parametrize(("config", "message"), [
    ({"addons": {"edgeController": {"enabled": True}}}, "addons.edgeController.enabled installs the chart of edge.controller"),
    ({"addons": {"edgeController": {"enabled": True}}, "edge": {**EDGE, "controller": "generic"}},
     "(got 'generic', enabled true)"),
    ({"addons": {"prometheusStack": {"enabled": True}}, "network": {"metricsNamespace": None}},
     "addons.prometheusStack.enabled needs network.metricsNamespace"),
    ({"addons": {"certManager": {"enable": True}}}, "addons.certManager.enable: unknown key; did you mean addons.certManager.enabled?"),
])
def test_bad_add_on_config_names_the_key(config, message):
    found = problems(**config)
    assert any(message in p for p in found), found
