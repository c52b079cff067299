"""Which cluster add-ons a stack installs itself (all off: most clusters have them already)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from components.addons.charts import CERT_MANAGER, CONTROLLERS, PROMETHEUS_STACK, Chart
from components.spec import Spec


class AddonSpec(Spec):
    """One add-on, installed as a Helm release from its pinned chart (components/addons/charts.py)."""

    enabled: bool = False
    """Install it with this stack; leave off on a cluster that already runs it."""
    values: dict[str, Any] = Field(default={}, max_length=50)
    """Chart values merged over the project's (charts/<add-on>/values.yaml), key by key."""
    chart: str | None = Field(default=None, min_length=1, max_length=500)
    """A local copy of the pinned chart (a directory or a packaged .tgz, relative to the project
    or absolute) to install instead of fetching it, for clusters and CI runners that reach no
    chart repository. It must be the same chart at the same version as the pin."""


class AddonsSpec(Spec):
    """Cluster add-ons, so one `pulumi up` works on an empty cluster. Objects that need an
    add-on's CRDs or webhook (issuers, certificates, routes, monitors) wait for its release."""

    cert_manager: AddonSpec = AddonSpec()
    """cert-manager (namespace cert-manager), for `edge.tls`."""
    edge_controller: AddonSpec = AddonSpec()
    """The implementation `edge.controller` names (Envoy Gateway, Traefik or ingress-nginx),
    in `network.ingressNamespace`."""
    prometheus_stack: AddonSpec = AddonSpec()
    """kube-prometheus-stack (Prometheus, its operator, Alertmanager, Grafana, kube-state-metrics)
    in `network.metricsNamespace`, released as `monitoring`."""

    def installed(self, controller: str) -> list[tuple[str, Chart, AddonSpec]]:
        """The enabled add-ons: their config key, pinned chart and settings
        (`controller`: `edge.controller`, whose chart the edge add-on installs)."""
        candidates = [("certManager", CERT_MANAGER, self.cert_manager),
                      ("edgeController", CONTROLLERS.get(controller), self.edge_controller),
                      ("prometheusStack", PROMETHEUS_STACK, self.prometheus_stack)]
        return [(key, chart, addon) for key, chart, addon in candidates if addon.enabled and chart is not None]
