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
COMPONENT_LABEL = "app.kubernetes.io/component"


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


def components_selector(app_pods: dict[str, str], components: Sequence[str]) -> k8s.meta.v1.LabelSelectorArgs:
    """The app's pods of exactly these components (`app.kubernetes.io/component`).

    Naming the components, rather than selecting every pod of the app, keeps a policy
    from also reaching pods it was never meant for, such as the data stores.
    """
    return k8s.meta.v1.LabelSelectorArgs(
        match_labels=dict(app_pods),
        match_expressions=[
            k8s.meta.v1.LabelSelectorRequirementArgs(key=COMPONENT_LABEL, operator="In", values=sorted(set(components)))
        ],
    )


def components_peer(app_pods: dict[str, str], components: Sequence[str]) -> Peer:
    """Pods of this namespace that belong to the app and are one of `components`."""
    return Peer(pod_selector=components_selector(app_pods, components))


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
    pods: dict[str, str] | k8s.meta.v1.LabelSelectorArgs,
    *,
    ingress: Sequence[k8s.networking.v1.NetworkPolicyIngressRuleArgs] | None = None,
    egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] | None = None,
) -> k8s.networking.v1.NetworkPolicySpecArgs:
    """A policy for some pods (labels or a selector), covering each direction that is given.

    An empty list closes a direction for those pods; None leaves it to other policies.
    An empty `pods` selects every pod of the namespace. A closed direction is said by
    `policyTypes` alone: the API server drops an empty rule list when it stores the
    object, so sending one would make every apply (and every refresh) see a change.
    """
    selector = pods if isinstance(pods, k8s.meta.v1.LabelSelectorArgs) else k8s.meta.v1.LabelSelectorArgs(match_labels=dict(pods) or None)
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    return k8s.networking.v1.NetworkPolicySpecArgs(
        pod_selector=selector,
        policy_types=types,
        ingress=list(ingress or ()) or None,
        egress=list(egress or ()) or None,
    )
