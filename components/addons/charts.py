"""The Helm charts of the cluster add-ons, pinned: where each comes from and at which version.

Chart versions are the ones the built-in cluster's CRDs (tools/cluster/versions.sh) and the
edge proxy build (tools/edge/versions.sh) come from, or the chart release that ships them.
The project's values for each sit in charts/<add-on>/values.yaml, beside this table's entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHARTS_DIR = Path(__file__).resolve().parents[2] / "charts"


@dataclass(frozen=True, kw_only=True)
class Chart:
    name: str
    """The add-on's name here: its directory under charts/ and its release's name."""
    chart: str
    """The chart's name in its repository, or its full oci:// reference."""
    repository: str | None
    """A Helm repository URL; None for an oci:// chart."""
    version: str

    @property
    def values_file(self) -> Path:
        return CHARTS_DIR / self.name / "values.yaml"


CERT_MANAGER = Chart(name="cert-manager", chart="cert-manager", repository="https://charts.jetstack.io", version="v1.21.2")
CONTROLLERS = {
    "envoy-gateway": Chart(name="envoy-gateway", chart="oci://docker.io/envoyproxy/gateway-helm", repository=None,
                           version="v1.9.1"),
    "traefik": Chart(name="traefik", chart="traefik", repository="https://traefik.github.io/charts", version="39.0.7"),
    "nginx": Chart(name="ingress-nginx", chart="ingress-nginx", repository="https://kubernetes.github.io/ingress-nginx",
                   version="4.14.0"),
}
"""The chart that installs each `edge.controller` (a `generic` one is the cluster's own business)."""
PROMETHEUS_STACK = Chart(name="kube-prometheus-stack", chart="kube-prometheus-stack",
                         repository="https://prometheus-community.github.io/helm-charts", version="80.13.3")
ALL = (CERT_MANAGER, *CONTROLLERS.values(), PROMETHEUS_STACK)
