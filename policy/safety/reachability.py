"""Who may connect to whom, computed from a stack's NetworkPolicies as Kubernetes applies them.

A connection needs both ends to allow it: an egress rule of the source's policies and
an ingress rule of the destination's. Policies that select a pod add up (any rule of
any of them allows), and a pod that no policy of a direction selects is open in that
direction. Pods are the pod templates of the stack's workloads, named by their
`app.kubernetes.io/component` label; what lies outside the stack is named by kind:
`internet` for an IP block, `namespace/<name>` for pods of another namespace.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from safety.model import Resource, pod_labels, workloads

COMPONENT_LABEL = "app.kubernetes.io/component"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
INTERNET = "internet"
ANY_PORT = "*"
# Where pod and service addresses live in any cluster: an IP block that leaves these
# out cannot reach a pod.
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
)

Port = int | str


@dataclass(frozen=True)
class Pod:
    """The pods of one workload, as policies see them."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    ports: tuple[tuple[int, str | None], ...]
    """(containerPort, name) of every TCP port its containers declare."""
    kind: str


@dataclass(frozen=True)
class Edge:
    source: str
    destination: str
    port: Port

    def __str__(self) -> str:
        return f"{self.source} -> {self.destination}:{self.port}"


@dataclass(frozen=True)
class Policy:
    namespace: str
    spec: Mapping[str, Any]

    def applies_to(self, pod: Pod, direction: str) -> bool:
        types = self.spec.get("policyTypes") or (["Ingress", "Egress"] if self.spec.get("egress") else ["Ingress"])
        return direction in types and pod.namespace == self.namespace and selector_matches(self.spec.get("podSelector") or {}, pod.labels)

    def rules(self, direction: str) -> list[Mapping[str, Any]]:
        return list(self.spec.get("ingress" if direction == "Ingress" else "egress") or [])


def selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A label selector (matchLabels and matchExpressions) against a set of labels."""
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for requirement in selector.get("matchExpressions") or []:
        key, operator, values = requirement.get("key"), requirement.get("operator"), requirement.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def pods_of(resources: Sequence[Resource]) -> list[Pod]:
    pods = []
    for workload, spec in workloads(resources):
        labels = pod_labels(workload)
        if workload.kind == "CronJob":
            template = ((workload.props.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template", {})
            labels = (template.get("metadata") or {}).get("labels") or {}
        ports = tuple(
            (p["containerPort"], p.get("name"))
            for c in spec.get("containers") or []
            for p in c.get("ports") or []
            if p.get("protocol", "TCP") == "TCP"
        )
        pods.append(
            Pod(
                name=labels.get(COMPONENT_LABEL) or workload.metadata.get("name", workload.name),
                namespace=workload.metadata.get("namespace", ""),
                labels=labels,
                ports=ports,
                kind=workload.kind,
            )
        )
    return pods


def policies_of(resources: Sequence[Resource]) -> list[Policy]:
    return [
        Policy(r.metadata.get("namespace", ""), r.props.get("spec") or {})
        for r in resources
        if r.kind == "NetworkPolicy"
    ]


def _port_allowed(rule: Mapping[str, Any], number: Port, name: str | None) -> bool:
    ports = rule.get("ports") or []
    if not ports:
        return True
    for entry in ports:
        if entry.get("protocol", "TCP") != "TCP":
            continue
        port = entry.get("port")
        if port is None or port in (number, name):
            return True
        end = entry.get("endPort")
        if isinstance(port, int) and isinstance(number, int) and end is not None and port <= number <= end:
            return True
    return False


def _block_reaches_pods(block: Mapping[str, Any]) -> bool:
    network = ipaddress.ip_network(block.get("cidr", "0.0.0.0/0"), strict=False)
    excepted = [ipaddress.ip_network(e, strict=False) for e in block.get("except") or []]
    return any(
        network.overlaps(private) and not any(private.subnet_of(e) for e in excepted if e.version == private.version)
        for private in PRIVATE_NETWORKS
        if private.version == network.version
    )


def _namespace_of(selector: Mapping[str, Any]) -> str | None:
    """The one namespace a namespaceSelector names, or None for any namespace."""
    return (selector.get("matchLabels") or {}).get(NAMESPACE_NAME_LABEL)


def _peer_matches_pod(peer: Mapping[str, Any], policy_namespace: str, pod: Pod) -> bool:
    if "ipBlock" in peer:
        return _block_reaches_pods(peer["ipBlock"])
    if "namespaceSelector" in peer:
        wanted = _namespace_of(peer["namespaceSelector"] or {})
        if wanted is not None and wanted != pod.namespace:
            return False
    elif pod.namespace != policy_namespace:
        return False
    return selector_matches(peer.get("podSelector") or {}, pod.labels)


def _outside(peer: Mapping[str, Any], own_namespace: str) -> str | None:
    """The outside party a peer names (`internet`, `namespace/<name>`), or None for the stack's own pods."""
    if "ipBlock" in peer:
        return INTERNET
    if "namespaceSelector" in peer:
        namespace = _namespace_of(peer["namespaceSelector"] or {})
        return None if namespace == own_namespace else f"namespace/{namespace or '*'}"
    return None


def _allows(policies: Sequence[Policy], pod: Pod, direction: str, peer_matches, number: Port, name: str | None) -> bool:
    selecting = [p for p in policies if p.applies_to(pod, direction)]
    if not selecting:
        return True
    key = "from" if direction == "Ingress" else "to"
    return any(
        _port_allowed(rule, number, name) and (not rule.get(key) or any(peer_matches(peer, policy.namespace) for peer in rule[key]))
        for policy in selecting
        for rule in policy.rules(direction)
    )


def _rule_ports(rule: Mapping[str, Any]) -> list[Port]:
    return [entry.get("port", ANY_PORT) for entry in rule.get("ports") or []] or [ANY_PORT]


def edges(resources: Sequence[Resource]) -> set[Edge]:
    """Every connection the stack's policies allow, by source, destination and port."""
    pods, policies = pods_of(resources), policies_of(resources)
    found: set[Edge] = set()
    for source in pods:
        for destination in pods:
            for number, name in destination.ports:
                out = _allows(policies, source, "Egress", lambda peer, ns: _peer_matches_pod(peer, ns, destination), number, name)
                into = _allows(policies, destination, "Ingress", lambda peer, ns: _peer_matches_pod(peer, ns, source), number, name)
                if out and into:
                    found.add(Edge(source.name, destination.name, number))
    for pod in pods:
        found.update(_outside_edges(policies, pod))
    return found


def _outside_edges(policies: Sequence[Policy], pod: Pod) -> Iterator[Edge]:
    for direction in ("Egress", "Ingress"):
        selecting = [p for p in policies if p.applies_to(pod, direction)]
        if not selecting:
            party = f"{INTERNET}+namespace/*"
            yield Edge(pod.name, party, ANY_PORT) if direction == "Egress" else Edge(party, pod.name, ANY_PORT)
            continue
        key = "from" if direction == "Ingress" else "to"
        for policy in selecting:
            for rule in policy.rules(direction):
                peers = rule.get(key)
                # A rule without peers allows every party.
                parties = [_outside(peer, pod.namespace) for peer in peers] if peers else [INTERNET, "namespace/*"]
                for party in filter(None, parties):
                    ports = _rule_ports(rule) if direction == "Egress" else [
                        n for n, name in pod.ports if _port_allowed(rule, n, name)
                    ]
                    for port in ports:
                        yield Edge(pod.name, party, port) if direction == "Egress" else Edge(party, pod.name, port)


def open_directions(resources: Sequence[Resource]) -> dict[str, list[str]]:
    """For each pod, the directions in which no policy selects it (and so all is open)."""
    policies = policies_of(resources)
    return {
        pod.name: [d for d in ("Ingress", "Egress") if not any(p.applies_to(pod, d) for p in policies)]
        for pod in pods_of(resources)
    }
