"""`make render STACK=<stack>`: the Kubernetes objects a stack would create, offline.

Runs the real program under the recording mocks and writes every Kubernetes object
to build/<stack>/manifests.yaml, then prints what it wrote.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pulumi
import yaml

from tools.recording import ROOT, Recorded, Recording, run_program
from tools.stacks import config_for, stack_file


# Dependencies first, the way `kubectl apply -f` would want them: within a component,
# by kind; the components themselves by layer (the namespace, then the data stores,
# then the app's Secret, then the app that reads them).
KIND_ORDER = (
    "Namespace", "NetworkPolicy", "ServiceAccount", "Secret", "ConfigMap",
    "PersistentVolumeClaim", "Service", "Job", "StatefulSet", "Deployment", "CronJob",
    "HorizontalPodAutoscaler", "PodDisruptionBudget",
    # The edge: issuers before the certificates they sign, then the Gateway and the
    # Middlewares that routes name, then the routes, then the policies attached to them.
    "ClusterIssuer", "Certificate", "Gateway", "Middleware", "HTTPRoute", "Ingress",
    "BackendTrafficPolicy", "SecurityPolicy",
    # Monitoring: what to scrape, then the rules over it.
    "ServiceMonitor", "PodMonitor", "PrometheusRule",
)
COMPONENT_ORDER = (
    "shipyard:platform:Namespace",
    "shipyard:data:Database",
    "shipyard:data:Cache",
    "shipyard:app:Secrets",
    "shipyard:app:Backend",
    "shipyard:data:Backup",
    "shipyard:edge:Edge",
)
"""Component type tokens; a type not listed goes after these, by its layer (`platform`,
`data`, `app`, `edge`, `ops`), then by type token."""
LAYER_ORDER = ("platform", "data", "app", "edge", "ops")
LAYER_OF = {"shipyard:data:Backup": "app"}
"""Components placed in a later layer than their type says: backups read the app's volumes too."""
TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata")


def render(stack: str) -> Recording:
    config, secret_keys = config_for(stack)
    return run_program(stack, config, secret_keys=secret_keys)


def manifests_path(stack: str) -> Path:
    return ROOT / "build" / stack / "manifests.yaml"


def ordered(recording: Recording) -> list[Recorded]:
    """Objects in an order that is a function of the objects alone, dependencies first.

    Registration order is no guide: the SDK registers a resource once its inputs
    resolve, so two runs of the same program can record them in different orders.
    Every part of the key is read from the object and its component: the Namespace
    first, then by component (`COMPONENT_ORDER`, then its name), then by kind
    (`KIND_ORDER`), then namespace and name; the URN breaks any remaining tie.
    """
    return sorted(recording.kubernetes_objects(), key=lambda r: order_key(recording, r))


def order_key(recording: Recording, resource: Recorded) -> tuple:
    component = recording.component_of(resource)
    metadata = resource.inputs.get("metadata") or {}
    return (
        resource.kind != "Namespace",
        component_rank(component.type) if component else (-1, -1, ""),
        component.name if component else "",
        KIND_ORDER.index(resource.kind) if resource.kind in KIND_ORDER else len(KIND_ORDER),
        resource.kind,
        metadata.get("namespace") or "",
        resource.object_name,
        resource.urn,
    )


def component_rank(type_: str) -> tuple[int, int, str]:
    """(layer, position in COMPONENT_ORDER, type) of a component type token."""
    module = LAYER_OF.get(type_) or (type_.split(":")[1] if type_.count(":") == 2 else "")
    layer = LAYER_ORDER.index(module) if module in LAYER_ORDER else len(LAYER_ORDER)
    known = COMPONENT_ORDER.index(type_) if type_ in COMPONENT_ORDER else len(COMPONENT_ORDER)
    return (layer, known, type_)


def canonical(manifest: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind and metadata first, every other key sorted, at every level."""

    def sort(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sort(value[k]) for k in sorted(value)}
        if isinstance(value, list):
            return [sort(v) for v in value]
        return value

    rest = sorted(k for k in manifest if k not in TOP_LEVEL_ORDER)
    return {k: sort(manifest[k]) for k in (*TOP_LEVEL_ORDER, *rest) if k in manifest}


def write_manifests(recording: Recording, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    documents = [canonical(r.inputs) for r in ordered(recording)]
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False, default_flow_style=False))


def table(recording: Recording) -> str:
    rows = [("COMPONENT", "KIND", "NAME")]
    for resource in ordered(recording):
        component = recording.component_of(resource)
        namespace = resource.inputs.get("metadata", {}).get("namespace")
        name = f"{namespace}/{resource.object_name}" if namespace else resource.object_name
        rows.append((component.name if component else "-", resource.kind, name))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows)


def render_command(argv: list[str] | None, description: str) -> tuple[str, Recording]:
    """What `make render` and `make validate` start with: the stack's objects, written out.

    A missing stack file or bad config ends the command with a message, not a traceback.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("stack")
    stack = parser.parse_args(argv).stack
    if not stack_file(stack).exists():
        print(f"no stack file {stack_file(stack).name}", file=sys.stderr)
        raise SystemExit(2)
    try:
        recording = render(stack)
    except pulumi.RunError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    write_manifests(recording, manifests_path(stack))
    return stack, recording


def main(argv: list[str] | None = None) -> int:
    try:
        stack, recording = render_command(argv, __doc__.splitlines()[0])
    except SystemExit as exit_:
        return int(exit_.code)
    path = manifests_path(stack)
    print(table(recording))
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"\n{len(recording.kubernetes_objects())} objects written to {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
