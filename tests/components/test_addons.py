"""components/addons: cluster add-ons as pinned Helm releases, and what waits for them."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

from components.addons.charts import ALL, CHARTS_DIR
from components.addons.component import merged
from tests.conftest import MINIMAL_APP, run_stack
from tests.test_stack_config import PROD_APP, problems

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
    assert cert_manager["atomic"]
    # Each release's namespace is the stack's, with Pod Security as strict as its pods pass.
    enforced = {r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
                for r in recording.resources if r.type == "kubernetes:core/v1:Namespace" and r.name.startswith("cluster-addons")}
    assert enforced == {"cert-manager": "restricted", "envoy-gateway-system": "restricted", "observability": "privileged"}
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
    ({"addons": ALL_ON, "edge": EDGE, "network": {"ingressNamespace": "cert-manager", "metricsNamespace": "cert-manager"}},
     "addons.certManager and addons.prometheusStack would both own namespace 'cert-manager'"),
])
def test_bad_add_on_config_names_the_key(config, message):
    found = problems(**config)
    assert any(message in p for p in found), found


def write_chart(directory: Path, name: str, version: str) -> Path:
    directory.mkdir(parents=True)
    (directory / "Chart.yaml").write_text(yaml.safe_dump({"apiVersion": "v2", "name": name, "version": version}))
    return directory


def packaged(chart: Path, into: Path) -> Path:
    archive = into / f"{chart.name}.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(chart, arcname=chart.name)
    return archive


def test_a_local_copy_of_the_pinned_chart_is_installed_instead_of_fetched(tmp_path):
    directory = write_chart(tmp_path / "cert-manager", "cert-manager", "v1.21.2")
    envoy = packaged(write_chart(tmp_path / "gateway-helm", "gateway-helm", "v1.9.1"), tmp_path)
    found = releases(run_stack(edge=EDGE, addons={"certManager": {"enabled": True, "chart": str(directory)},
                                                  "edgeController": {"enabled": True, "chart": str(envoy)}}))
    for release, path in (("cert-manager", directory), ("envoy-gateway", envoy)):
        inputs = found[release].inputs
        assert inputs["chart"] == str(path)
        assert "version" not in inputs and "repositoryOpts" not in inputs
        # The project's values still apply.
        assert inputs["values"] == yaml.safe_load((CHARTS_DIR / release / "values.yaml").read_text())


def test_a_local_chart_that_is_not_the_pinned_one_is_refused_with_every_reason(tmp_path):
    older = write_chart(tmp_path / "cert-manager", "cert-manager", "v1.20.0")
    wrong = packaged(write_chart(tmp_path / "traefik", "traefik", "v1.9.1"), tmp_path)
    found = problems(edge=EDGE, addons={"certManager": {"enabled": True, "chart": str(older)},
                                        "edgeController": {"enabled": True, "chart": str(wrong)},
                                        "prometheusStack": {"enabled": True, "chart": str(tmp_path / "missing")}})
    [message] = [p for p in found if "chart" in p]
    assert f"addons.certManager.chart: {older} is cert-manager v1.20.0, not the pinned cert-manager v1.21.2" in message
    assert f"addons.edgeController.chart: {wrong} is traefik v1.9.1, not the pinned gateway-helm v1.9.1" in message
    assert f"addons.prometheusStack.chart: {tmp_path / 'missing'} does not exist" in message


def test_a_local_chart_of_a_disabled_add_on_is_not_looked_at(tmp_path):
    assert releases(run_stack(addons={"certManager": {"chart": str(tmp_path / "missing")}})) == {}


def test_in_production_the_add_ons_namespaces_are_protected_and_kept():
    def addon_namespaces(environment: str) -> list:
        recording = run_stack(environment=environment, app=PROD_APP, edge=EDGE, addons={"certManager": {"enabled": True}, "edgeController": {"enabled": True}})
        return [r for r in recording.resources if r.type == "kubernetes:core/v1:Namespace" and r.name.startswith("cluster-addons")]

    assert all(n.protect and n.retain_on_delete for n in addon_namespaces("production"))
    assert not any(n.protect or n.retain_on_delete for n in addon_namespaces("development"))
