"""The ClusterAddons component: the Helm releases of the add-ons a stack installs itself.

Each release waits until its workloads are ready (Helm's wait), so whatever depends on it
(an issuer on cert-manager's webhook, a route on the controller's CRDs, a monitor on the
operator's) is created only once the add-on can take it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.addons.charts import CERT_MANAGER, CONTROLLERS, PROMETHEUS_STACK, Chart
from components.addons.spec import AddonSpec, AddonsSpec
from components.namespace import pod_security_labels

TYPE = "shipyard:platform:ClusterAddons"
PROMETHEUS_RELEASE = "monitoring"
"""The kube-prometheus-stack release name: its Prometheus selects monitors labelled release=monitoring."""
TIMEOUT_SECONDS = 600


def merged(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """`overrides` over `base`, nested mappings merged key by key (as Helm merges values)."""
    result = copy.deepcopy(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


@dataclass(frozen=True, kw_only=True)
class ClusterAddonsArgs:
    spec: AddonsSpec
    controller: str
    """`edge.controller`: which chart the edge controller add-on installs."""
    ingress_namespace: str
    metrics_namespace: str | None
    protect: bool = False
    """Guard the add-ons' namespaces against deletion: cert-manager's holds the ACME account key
    and every issued certificate."""


class ClusterAddons(pulumi.ComponentResource):
    """The releases, and which of them each kind of object must wait for."""

    tls: list[pulumi.Resource]
    """What issuers and certificates wait for."""
    edge: list[pulumi.Resource]
    """What Gateways, routes, Ingresses and their policies wait for."""
    monitoring: list[pulumi.Resource]
    """What ServiceMonitors and PrometheusRules wait for."""

    def __init__(self, name: str, args: ClusterAddonsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._name = name
        self._protect = args.protect
        spec = args.spec
        self.tls, self.edge, self.monitoring = [], [], []
        if spec.cert_manager.enabled:
            self.tls.append(self._release(CERT_MANAGER, spec.cert_manager, "cert-manager"))
        if spec.edge_controller.enabled:
            self.edge.append(self._release(CONTROLLERS[args.controller], spec.edge_controller, args.ingress_namespace))
        if spec.prometheus_stack.enabled and args.metrics_namespace:
            self.monitoring.append(self._release(PROMETHEUS_STACK, spec.prometheus_stack, args.metrics_namespace,
                                                 release=PROMETHEUS_RELEASE))
        self.edge += self.tls  # the edge's certificates need cert-manager too
        self.register_outputs({})

    def _release(self, chart: Chart, addon: AddonSpec, namespace: str, release: str | None = None) -> k8s.helm.v3.Release:
        values = merged(yaml.safe_load(chart.values_file.read_text()) or {}, addon.values)
        # The namespace is made here rather than by Helm, which would leave it without Pod Security.
        labels = {**pod_security_labels(), "pod-security.kubernetes.io/enforce": chart.pod_security}
        space = k8s.core.v1.Namespace(f"{self._name}-{chart.name}-namespace",
                                      metadata=k8s.meta.v1.ObjectMetaArgs(name=namespace, labels=labels),
                                      opts=pulumi.ResourceOptions(parent=self, protect=self._protect,
                                                                  retain_on_delete=self._protect))
        # A local copy is the pinned chart already (checked with the config): no version to ask for.
        local = str(Path(addon.chart).resolve()) if addon.chart else None
        return k8s.helm.v3.Release(
            f"{self._name}-{chart.name}",
            name=release or chart.name,
            chart=local or chart.chart,
            version=None if local else chart.version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository) if chart.repository and not local else None,
            namespace=space.metadata.name,
            values=values,
            # A failed upgrade rolls back instead of leaving a half-installed add-on.
            atomic=True,
            cleanup_on_fail=True,
            timeout=TIMEOUT_SECONDS,
            max_history=5,
            opts=pulumi.ResourceOptions(parent=self),
        )
