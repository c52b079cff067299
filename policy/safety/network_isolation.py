"""Rule 7: the network is closed by default, and data servers never reach out.

Computed from the stack's NetworkPolicies as Kubernetes applies them (see
`reachability`), so a policy that selects more pods than it means is caught by
what it allows, not by how it is written:

- every pod is selected by some policy in both directions, so nothing is open by
  default (the namespace's deny-all does this);
- a server, that is a pod another pod of the stack may connect to (the database,
  the cache, a pooler), reaches no internet address and no pod but another server;
- a StatefulSet's pods (data servers) open no connection to any pod but another data
  server's: a standby streams from its primary, and nothing else dials out.

DNS (another namespace's pods on port 53) stays open for every pod.
"""

from __future__ import annotations

from collections.abc import Sequence

from safety.model import Finding, Report, Resource
from safety.reachability import INTERNET, Pod, edges, open_directions, pods_of

RULE = "network-isolation"
TITLE = "deny by default; servers and data stores never reach the internet or dial other pods"


def check(resources: Sequence[Resource], environment: str) -> Report:
    report = Report(RULE, TITLE)
    pods = {pod.name: pod for pod in pods_of(resources)}
    if not pods:
        return report
    allowed = edges(resources)
    servers = {e.destination for e in allowed if e.source in pods and e.destination in pods}
    for name, directions in sorted(open_directions(resources).items()):
        report.checked += 1
        for direction in directions:
            report.violations.append(_finding(pods[name], f"no NetworkPolicy limits its {direction.lower()}: every connection is allowed"))
    for edge in sorted(allowed, key=str):
        source = pods.get(edge.source)
        if source is None:
            continue
        reaches_internet = INTERNET in edge.destination
        if edge.source in servers and reaches_internet:
            report.violations.append(_finding(source, f"is a server (other pods connect to it) but may reach the internet ({edge})"))
        elif edge.source in servers and edge.destination in pods and edge.destination not in servers:
            report.violations.append(_finding(source, f"is a server but may connect to {edge.destination} ({edge})"))
        data_server_peer = edge.destination in pods and pods[edge.destination].kind == "StatefulSet"
        if source.kind == "StatefulSet" and (reaches_internet or (edge.destination in pods and not data_server_peer)):
            report.violations.append(_finding(source, f"is a data server but may open connections ({edge})"))
    return report


def _finding(pod: Pod, message: str) -> Finding:
    return Finding(f"{pod.kind} pods {pod.name}", message)
