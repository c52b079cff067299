"""Network policy building blocks.

Every namespace starts from deny-all (ingress and egress); each workload then opens
exactly what it needs with the rules built here.
"""

from __future__ import annotations

from collections.abc import Sequence

import pulumi_kubernetes as k8s
from pydantic import Field

from components.spec import DNS_LABEL, Spec

# Cluster-internal and link-local ranges, kept out of "internet" egress so a pod that
# may call external APIs still cannot reach other namespaces or the cloud metadata API.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10")

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class NetworkSpec(Spec):
    """Facts about the cluster's network that policies depend on."""

    ingress_namespace: str = Field(default="ingress-nginx", pattern=DNS_LABEL)
    """Namespace of the ingress controller, the only source of web traffic."""
    dns_namespace: str = Field(default="kube-system", pattern=DNS_LABEL)
    """Namespace of the cluster DNS (kube-dns/CoreDNS) pods."""
    internet_egress: bool = False
    """Let app pods open connections to public addresses (third-party APIs, SMTP)."""
    metrics_namespace: str | None = Field(default="monitoring", pattern=DNS_LABEL)
    """Namespace of the Prometheus that scrapes the exporters; none may when empty."""


Peer = k8s.networking.v1.NetworkPolicyPeerArgs
Port = k8s.networking.v1.NetworkPolicyPortArgs


def namespace_peer(namespace: str, pod_labels: dict[str, str] | None = None) -> Peer:
    return Peer(
        namespace_selector=k8s.meta.v1.LabelSelectorArgs(
            match_labels={NAMESPACE_NAME_LABEL: namespace}
        ),
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=pod_labels) if pod_labels else None,
    )


def pod_peer(pod_labels: dict[str, str]) -> Peer:
    """Pods of this namespace with these labels."""
    return Peer(pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pod_labels)))


def tcp(*ports: int | str) -> list[Port]:
    return [Port(protocol="TCP", port=p) for p in ports]


def ingress_rule(peers: Sequence[Peer], ports: Sequence[Port]):
    return k8s.networking.v1.NetworkPolicyIngressRuleArgs(from_=list(peers), ports=list(ports))


def egress_rule(peers: Sequence[Peer], ports: Sequence[Port] | None = None):
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=list(peers), ports=list(ports) if ports else None)


def dns_egress(dns_namespace: str):
    return egress_rule(
        [namespace_peer(dns_namespace, {"k8s-app": "kube-dns"})],
        [Port(protocol="UDP", port=53), Port(protocol="TCP", port=53)],
    )


def internet_egress():
    return egress_rule(
        [
            Peer(
                ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0", except_=list(PRIVATE_RANGES))
            )
        ]
    )


def policy_spec(
    pod_labels: dict[str, str],
    *,
    ingress: Sequence[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None = None,
    egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None = None,
) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """A policy for some pods, covering each direction that is given.

    An empty list closes a direction for those pods; None leaves it to other policies.
    An empty `pod_labels` selects every pod of the namespace.
    """
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pod_labels) or None),
        policy_types=types,
        ingress=list(ingress) if ingress is not None else None,
        egress=list(egress) if egress is not None else None,
    )
