"""components/namespace.py: Pod Security labels, deny-all, DNS, protection."""

from __future__ import annotations

from components.namespace import Namespace, NamespaceArgs, pod_security_labels
from tests.conftest import run_components


def namespace(**args):
    return run_components(lambda: Namespace("ns", NamespaceArgs(name="shop-test", **args)))


def test_namespace_enforces_audits_and_warns_restricted():
    labels = namespace().one("Namespace", "shop-test")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"


def test_can_add_labels_but_not_weaken_pod_security():
    labels = namespace(labels={"team": "payments", "pod-security.kubernetes.io/enforce": "privileged"}).one(
        "Namespace", "shop-test"
    )["metadata"]["labels"]
    assert labels["team"] == "payments"
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


def test_default_deny_closes_both_directions_for_every_pod():
    policy = namespace().one("NetworkPolicy", "default-deny")
    assert policy["metadata"]["namespace"] == "shop-test"
    spec = policy["spec"]
    assert spec["podSelector"] == {}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert not spec.get("ingress") and not spec.get("egress")


def test_every_pod_may_resolve_names():
    spec = namespace().one("NetworkPolicy", "allow-dns")["spec"]
    assert spec["policyTypes"] == ["Egress"]
    [rule] = spec["egress"]
    assert rule["to"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "kube-system"}
    assert {(p["protocol"], p["port"]) for p in rule["ports"]} == {("UDP", 53), ("TCP", 53)}


def test_can_configure_dns_namespace():
    spec = namespace(dns_namespace="dns").one("NetworkPolicy", "allow-dns")["spec"]
    assert spec["egress"][0]["to"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"] == "dns"


def test_unprotected_by_default():
    [ns] = namespace().find("Namespace")
    assert not ns.protect and not ns.retain_on_delete


def test_protected_namespace_is_kept_on_delete():
    [ns] = namespace(protect=True).find("Namespace")
    assert ns.protect and ns.retain_on_delete


def test_pod_security_labels_builder():
    assert pod_security_labels("baseline")["pod-security.kubernetes.io/enforce"] == "baseline"
