"""The Monitoring component: what the Prometheus operator needs to scrape the stack and to
alert on it, and the dashboard Grafana's sidecar picks up."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.monitoring.dashboard import dashboard_json
from components.monitoring.rules import Watched, rule_groups
from components.monitoring.spec import MonitoringSpec
from components.naming import AppIdentity, k8s_name

TYPE = "shipyard:ops:Monitoring"
COMPONENT = "monitoring"
API_VERSION = "monitoring.coreos.com/v1"
DASHBOARD_LABEL = "grafana_dashboard"
"""The label Grafana's dashboard sidecar (kube-prometheus-stack) loads ConfigMaps by."""


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    """A Service of one component whose port Prometheus scrapes."""

    component: str
    port: str
    """The Service's port name."""
    path: str = "/metrics"


@dataclass(frozen=True, kw_only=True)
class MonitoringArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    spec: MonitoringSpec
    targets: Sequence[ScrapeTarget]
    watched: Watched
    """What the alerts and the dashboard look at."""
    after: Sequence[pulumi.Resource] = ()
    """The release that installs the Prometheus operator's CRDs, when the stack installs it."""


class Monitoring(pulumi.ComponentResource):
    """A ServiceMonitor per scraped component, one PrometheusRule, one dashboard ConfigMap."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        identity, spec = args.identity, args.spec
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.after))

        def metadata(object_name: str, extra: dict[str, str]) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=args.namespace, labels={**identity.labels(COMPONENT), **extra}
            )

        for target in args.targets:
            k8s.apiextensions.CustomResource(
                f"{name}-{target.component}",
                api_version=API_VERSION,
                kind="ServiceMonitor",
                metadata=metadata(k8s_name(identity.name, target.component), spec.labels),
                spec={
                    # The component's Services; a headless one has no metrics port and adds nothing.
                    "selector": {"matchLabels": identity.selector(target.component)},
                    "endpoints": [{"port": target.port, "path": target.path, "interval": f"{spec.interval_seconds}s",
                                   "scheme": "http"}],
                },
                opts=child,
            )
        k8s.apiextensions.CustomResource(
            f"{name}-alerts",
            api_version=API_VERSION,
            kind="PrometheusRule",
            metadata=metadata(k8s_name(identity.name, "alerts"), spec.labels),
            spec={"groups": rule_groups(args.watched)},
            opts=child,
        )
        if spec.dashboard:
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard",
                metadata=metadata(k8s_name(identity.name, "dashboard"), {DASHBOARD_LABEL: "1"}),
                data={f"{identity.instance}.json": dashboard_json(args.watched)},
                opts=child,
            )
        self.register_outputs({})
