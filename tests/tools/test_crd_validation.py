"""Custom resources are validated against their CRDs' schemas, not skipped."""

import copy

import pytest

from tools import validate

CERTIFICATE = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "Certificate",
    "metadata": {"name": "api-tls"},
    "spec": {"secretName": "api-tls", "dnsNames": ["api.example.com"], "issuerRef": {"name": "letsencrypt", "kind": "ClusterIssuer"}},
}
CLUSTER_ISSUER = {
    "apiVersion": "cert-manager.io/v1",
    "kind": "ClusterIssuer",
    "metadata": {"name": "letsencrypt"},
    "spec": {"acme": {"server": "https://acme-v02.api.letsencrypt.org/directory", "email": "ops@example.com",
                      "privateKeySecretRef": {"name": "letsencrypt-account"},
                      "solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}},
}
SERVICE_MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "api"},
    "spec": {"selector": {"matchLabels": {"app": "api"}}, "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}]},
}
PROMETHEUS_RULE = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "PrometheusRule",
    "metadata": {"name": "api"},
    "spec": {"groups": [{"name": "api", "rules": [{"alert": "ApiDown", "expr": "up == 0", "for": "5m"}]}]},
}


@pytest.mark.parametrize("manifest", [CERTIFICATE, CLUSTER_ISSUER, SERVICE_MONITOR, PROMETHEUS_RULE], ids=lambda m: m["kind"])
def test_valid_custom_resources_pass(manifest):
    assert validate.problems([manifest]) == []


def test_missing_required_fields_fail():
    broken = copy.deepcopy(CERTIFICATE)
    del broken["spec"]["issuerRef"]
    [problem] = validate.problems([broken])
    assert problem.startswith("Certificate api-tls [CRD]:") and "issuerRef" in problem


def test_wrong_types_fail():
    broken = copy.deepcopy(SERVICE_MONITOR)
    broken["spec"]["endpoints"] = {"port": "http"}
    [problem] = validate.problems([broken])
    assert "endpoints must be array" in problem


def test_enum_values_are_checked():
    broken = copy.deepcopy(CERTIFICATE)
    broken["spec"]["privateKey"] = {"algorithm": "DSA"}
    [problem] = validate.problems([broken])
    assert "algorithm" in problem


def test_an_unknown_kind_in_a_known_group_fails():
    [problem] = validate.problems([{**CERTIFICATE, "kind": "Certificat"}])
    assert "no CRD schema for cert-manager.io/v1 Certificat" in problem


def test_mixed_batches_report_each_object():
    broken = copy.deepcopy(PROMETHEUS_RULE)
    broken["spec"]["groups"][0]["rules"][0]["expr"] = ["up"]
    found = validate.problems([CERTIFICATE, broken, SERVICE_MONITOR])
    assert len(found) == 1 and found[0].startswith("PrometheusRule api [CRD]")
