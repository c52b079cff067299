"""`make diagrams`: each example system's architecture, drawn from its stack's objects.

The stack is rendered as `make render` does (the real program under the recording mocks);
the picture is read off the objects it creates, never drawn by hand:
hosts (Gateway listeners, route and Ingress hostnames) -> routes (HTTPRoutes, Ingresses, with
their paths and rate limits) -> Services -> the workloads their selectors pick -> the data
stores those workloads may connect to (computed from the NetworkPolicies, as the cluster
enforces them: policy/safety/reachability.py), with volumes, Secrets, Jobs and CronJobs,
and what Prometheus scrapes. Graphviz (`dot`, from Debian) lays it out.

Writes examples/<system>/architecture.dot (stable text: everything sorted) and
architecture.svg, which records the DOT's digest so a test can tell a stale picture.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# tools.gate first: it puts the policy pack's `safety` package on the path.
from tools import gate, render
from tools.examples import SYSTEMS, System

# isort: split
from safety.model import Resource, pod_spec, workloads
from safety.reachability import COMPONENT_LABEL, edges, selector_matches

DIGEST_MARK = "<!-- architecture.dot sha256 "
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob")
# The clusters of the picture, left to right, and how each one looks.
GROUPS = {
    "edge": ("Edge", "#eef5ff"),
    "app": ("Application", "#effaf0"),
    "jobs": ("Jobs and schedules", "#fff8e6"),
    "data": ("Data stores", "#fdf0f0"),
    "secrets": ("Secrets", "#f4f4f4"),
    "monitoring": ("Monitoring", "#f3efff"),
}
SHAPES = {"host": "oval", "route": "note", "service": "component", "workload": "box3d", "volume": "cylinder",
          "secret": "folder", "monitor": "tab"}


@dataclass(frozen=True, order=True)
class Node:
    group: str
    id: str
    shape: str
    label: str


@dataclass
class Graph:
    nodes: dict[str, Node] = field(default_factory=dict)
    links: set[tuple[str, str, str, str]] = field(default_factory=set)
    """(from, to, label, style)"""

    def add(self, group: str, id: str, shape: str, *lines: str) -> str:
        self.nodes.setdefault(id, Node(group, id, SHAPES[shape], "\n".join(filter(None, lines))))
        return id

    def link(self, source: str, target: str, label: str = "", style: str = "solid") -> None:
        self.links.add((source, target, label, style))


def name_of(resource: Resource) -> str:
    return resource.metadata.get("name", resource.name)


def spec_of(resource: Resource) -> Mapping[str, Any]:
    return resource.props.get("spec") or {}


def template_labels(resource: Resource) -> Mapping[str, str]:
    spec = spec_of(resource)
    if resource.kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def short_image(image: str) -> str:
    """The image's last path part and tag, without the digest: what a reader recognises."""
    return image.split("@", 1)[0].rsplit("/", 1)[-1]


def rate_limits(resources: Sequence[Resource]) -> dict[str, str]:
    """Route name -> its rate limit, from the policies and middlewares attached to it."""
    limits: dict[str, str] = {}
    for resource in resources:
        spec = spec_of(resource)
        if resource.kind == "BackendTrafficPolicy":
            rules = ((spec.get("rateLimit") or {}).get("global") or (spec.get("rateLimit") or {}).get("local") or {}).get("rules") or []
            for rule in rules:
                limit = rule.get("limit") or {}
                for target in spec.get("targetRefs") or []:
                    limits[target["name"]] = f"{limit.get('requests')} req/{str(limit.get('unit', '')).lower()}"
    return limits


def middleware_limits(resources: Sequence[Resource]) -> dict[str, str]:
    """Traefik Middleware name -> its rate limit."""
    found = {}
    for resource in resources:
        limit = spec_of(resource).get("rateLimit") if resource.kind == "Middleware" else None
        if limit:
            found[name_of(resource)] = f"{limit.get('average')} req/{limit.get('period', '1s')}"
    return found


def add_edge(graph: Graph, resources: Sequence[Resource]) -> None:
    limits, middlewares = rate_limits(resources), middleware_limits(resources)
    for resource in resources:
        spec = spec_of(resource)
        if resource.kind == "HTTPRoute":
            name = name_of(resource)
            rules = spec.get("rules") or []
            paths = sorted({m["path"]["value"] for r in rules for m in r.get("matches") or [] if "path" in m})
            redirect = any(f.get("type") == "RequestRedirect" for r in rules for f in r.get("filters") or [])
            extras = [limits.get(name, "")]
            extras += [middlewares[f["extensionRef"]["name"]] for r in rules for f in r.get("filters") or []
                       if f.get("type") == "ExtensionRef" and f.get("extensionRef", {}).get("name") in middlewares]
            route = graph.add("edge", f"route/{name}", "route", f"HTTPRoute {name}",
                              "redirect to HTTPS" if redirect else " ".join(paths), *extras)
            for host in spec.get("hostnames") or []:
                graph.link(graph.add("edge", f"host/{host}", "host", host), route,
                           "http" if redirect else "https")
            for rule in rules:
                for backend in rule.get("backendRefs") or []:
                    graph.link(route, f"service/{backend['name']}", str(backend.get("port", "")))
        elif resource.kind == "Ingress":
            name = name_of(resource)
            tls = bool(spec.get("tls"))
            for rule in spec.get("rules") or []:
                paths = (rule.get("http") or {}).get("paths") or []
                route = graph.add("edge", f"route/{name}", "route", f"Ingress {name}",
                                  " ".join(sorted(p.get("path", "/") for p in paths)))
                graph.link(graph.add("edge", f"host/{rule['host']}", "host", rule["host"]), route,
                           "https" if tls else "http")
                for path in paths:
                    service = path["backend"]["service"]
                    graph.link(route, f"service/{service['name']}", str(service["port"].get("number", "")))


def add_services(graph: Graph, resources: Sequence[Resource], owners: Mapping[str, Resource]) -> None:
    """Services that something routes to or scrapes, and the workloads they select."""
    for resource in resources:
        spec = spec_of(resource)
        if resource.kind != "Service" or spec.get("clusterIP") == "None":
            continue
        ports = ", ".join(f"{p['port']}->{p.get('targetPort', p['port'])}" for p in spec.get("ports") or [])
        selected = [w for w in owners.values() if spec.get("selector")
                    and selector_matches({"matchLabels": spec["selector"]}, template_labels(w))]
        group = "data" if any(w.kind == "StatefulSet" for w in selected) else "app"
        service = graph.add(group, f"service/{name_of(resource)}", "service", f"Service {name_of(resource)}", ports)
        for workload in selected:
            graph.link(service, f"workload/{name_of(workload)}")


def workload_label(resource: Resource, autoscaled: Mapping[str, Mapping[str, Any]]) -> list[str]:
    spec, pod = spec_of(resource), pod_spec(resource) or {}
    images = sorted({short_image(c["image"]) for c in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]})
    name = name_of(resource)
    lines = [f"{resource.kind} {name}", ", ".join(images)]
    if resource.kind in ("Deployment", "StatefulSet"):
        replicas = spec.get("replicas", 1)
        if name in autoscaled:
            lines.append(f"{autoscaled[name].get('minReplicas', 1)}-{autoscaled[name]['maxReplicas']} replicas (HPA)")
        else:
            lines.append(f"{replicas} replica{'s' * (replicas != 1)}")
    if resource.kind == "CronJob":
        lines.append(" ".join(filter(None, [spec.get("schedule"), spec.get("timeZone")])))
    return lines


def add_workloads(graph: Graph, resources: Sequence[Resource]) -> dict[str, Resource]:
    autoscaled = {spec_of(r)["scaleTargetRef"]["name"]: spec_of(r) for r in resources if r.kind == "HorizontalPodAutoscaler"}
    by_component: dict[str, Resource] = {}
    for resource, pod in workloads(resources):
        if resource.kind not in WORKLOAD_KINDS:
            continue
        group = {"StatefulSet": "data", "Job": "jobs", "CronJob": "jobs"}.get(resource.kind, "app")
        node = graph.add(group, f"workload/{name_of(resource)}", "workload", *workload_label(resource, autoscaled))
        by_component[template_labels(resource).get(COMPONENT_LABEL, name_of(resource))] = resource
        for claim in spec_of(resource).get("volumeClaimTemplates") or []:
            size = ((claim.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage", "")
            graph.link(node, graph.add("data", f"volume/{name_of(resource)}/{claim['metadata']['name']}", "volume",
                                       f"volume {claim['metadata']['name']}", size), style="dashed")
        for volume in pod.get("volumes") or []:
            if "persistentVolumeClaim" in volume:
                graph.link(node, f"volume/{volume['persistentVolumeClaim']['claimName']}", style="dashed")
        for secret in sorted(secrets_used(pod)):
            graph.link(node, f"secret/{secret}", style="dotted")
    return by_component


def secrets_used(pod: Mapping[str, Any]) -> set[str]:
    found = {v["secret"]["secretName"] for v in pod.get("volumes") or [] if "secret" in v}
    for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        found |= {e["secretRef"]["name"] for e in container.get("envFrom") or [] if "secretRef" in e}
        found |= {e["valueFrom"]["secretKeyRef"]["name"] for e in container.get("env") or []
                  if "secretKeyRef" in (e.get("valueFrom") or {})}
    return found


def add_claims_and_secrets(graph: Graph, resources: Sequence[Resource]) -> None:
    for resource in resources:
        if resource.kind == "PersistentVolumeClaim":
            spec = spec_of(resource)
            graph.add("data", f"volume/{name_of(resource)}", "volume", f"volume {name_of(resource)}",
                      (spec.get("resources") or {}).get("requests", {}).get("storage", ""),
                      ", ".join(spec.get("accessModes") or []))
        elif resource.kind == "Secret":
            graph.add("secrets", f"secret/{name_of(resource)}", "secret", f"Secret {name_of(resource)}",
                      f"{len(resource.props.get('stringData') or resource.props.get('data') or {})} keys")


def entry_points(resources: Sequence[Resource], workload: Resource) -> dict[int, str]:
    """Port -> the node a client reaches it through: the Service that selects the workload
    and forwards to that port, else the workload itself (a headless or missing Service)."""
    named = {p.get("name"): p["containerPort"] for c in (pod_spec(workload) or {}).get("containers") or []
             for p in c.get("ports") or []}
    found: dict[int, str] = {}
    for service in resources:
        spec = spec_of(service)
        if service.kind != "Service" or spec.get("clusterIP") == "None" or not spec.get("selector"):
            continue
        if selector_matches({"matchLabels": spec["selector"]}, template_labels(workload)):
            for port in spec.get("ports") or []:
                target = port.get("targetPort", port["port"])
                found.setdefault(named.get(target, target), f"service/{name_of(service)}")
    return found


def add_connections(graph: Graph, resources: Sequence[Resource], by_component: Mapping[str, Resource]) -> None:
    """The connections the NetworkPolicies allow from one workload to another, drawn to the
    Service in front of the destination (where the client's URL points) when it has one."""
    for edge in edges(resources):
        source, destination = by_component.get(edge.source), by_component.get(edge.destination)
        if source is None or destination is None or source is destination:
            continue
        target = entry_points(resources, destination).get(edge.port, f"workload/{name_of(destination)}")
        graph.link(f"workload/{name_of(source)}", target, str(edge.port), style="bold")


def add_monitoring(graph: Graph, resources: Sequence[Resource]) -> None:
    services = [r for r in resources if r.kind == "Service" and spec_of(r).get("clusterIP") != "None"]
    for resource in resources:
        if resource.kind != "ServiceMonitor":
            continue
        spec = spec_of(resource)
        paths = ", ".join(sorted({e.get("path", "/metrics") for e in spec.get("endpoints") or []}))
        monitor = graph.add("monitoring", f"monitor/{name_of(resource)}", "monitor", f"ServiceMonitor {name_of(resource)}", paths)
        for service in services:
            if selector_matches(spec.get("selector") or {}, service.labels):
                graph.link(monitor, f"service/{name_of(service)}", style="dotted")


def graph_of(resources: Sequence[Resource]) -> Graph:
    graph = Graph()
    add_edge(graph, resources)
    by_component = add_workloads(graph, resources)
    add_services(graph, resources, by_component)
    add_claims_and_secrets(graph, resources)
    add_connections(graph, resources, by_component)
    add_monitoring(graph, resources)
    # A link to something the stack does not create (a route to a Service made elsewhere)
    # would make Graphviz invent a bare node: leave such links out.
    graph.links = {link for link in graph.links if link[0] in graph.nodes and link[1] in graph.nodes}
    return graph


def quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def dot(system: System, graph: Graph) -> str:
    lines = [
        f"// {system.title}: generated by `make diagrams` from stack {system.stack}; do not edit.",
        f"digraph {quoted(system.name)} {{",
        f"  graph [rankdir=LR, fontname=Helvetica, fontsize=12, labelloc=t, label={quoted(system.title)}, "
        "nodesep=0.25, ranksep=0.6];",
        "  node [fontname=Helvetica, fontsize=10, style=filled, fillcolor=white];",
        "  edge [fontname=Helvetica, fontsize=9, color=\"#555555\"];",
    ]
    for group, (title, colour) in GROUPS.items():
        members = sorted(n for n in graph.nodes.values() if n.group == group)
        if not members:
            continue
        lines.append(f"  subgraph cluster_{group} {{")
        lines.append(f"    label={quoted(title)}; style=filled; color=\"#cccccc\"; fillcolor=\"{colour}\";")
        lines += [f"    {quoted(n.id)} [shape={n.shape}, label={quoted(n.label)}];" for n in members]
        lines.append("  }")
    for source, target, label, style in sorted(graph.links):
        attributes = [f"style={style}"] + ([f"label={quoted(label)}"] if label else [])
        if target.startswith("secret/"):
            # Who reads which Secret, in grey: there to look up, not to follow.
            attributes += ['color="#aaaaaa"', "arrowsize=0.5"]
        lines.append(f"  {quoted(source)} -> {quoted(target)} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def source_for(system: System) -> str:
    return dot(system, graph_of(gate.resources_of(render.render(system.stack))))


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def svg_for(source: str) -> str:
    """The DOT laid out by Graphviz, with the DOT's digest recorded after the XML header."""
    if shutil.which("dot") is None:
        raise SystemExit("Graphviz's `dot` is needed: apt-get install graphviz")
    laid_out = subprocess.run(["dot", "-Tsvg"], input=source, capture_output=True, text=True)
    if laid_out.returncode != 0:
        raise SystemExit(f"dot failed: {laid_out.stderr}")
    svg = laid_out.stdout
    header, _, body = svg.partition("\n")
    return f"{header}\n{DIGEST_MARK}{digest(source)} -->\n{body}"


def write(systems: Iterable[System]) -> None:
    for system in systems:
        source = source_for(system)
        system.dot_file.write_text(source)
        system.svg_file.write_text(svg_for(source))
        print(f"{system.svg_file.relative_to(system.directory.parents[1])}: {source.count(' -> ')} links")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("systems", nargs="*", help="systems to draw (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.systems) - set(SYSTEMS))
    if unknown:
        sys.exit(f"unknown system(s) {', '.join(unknown)}; known: {', '.join(SYSTEMS)}")
    write(SYSTEMS[name] for name in (args.systems or SYSTEMS))


if __name__ == "__main__":
    main()
