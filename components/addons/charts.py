"""The Helm charts of the cluster add-ons, pinned: where each comes from and at which version.

Chart versions are the ones the built-in cluster's CRDs (tools/cluster/versions.sh) and the
edge proxy build (tools/edge/versions.sh) come from, or the chart release that ships them.
The project's values for each sit in charts/<add-on>/values.yaml, beside this table's entry.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

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
    pod_security: str = "restricted"
    """The Pod Security level its namespace enforces (audit and warn stay at "restricted"): the
    strictest its pods pass, so a chart update that loosens them is refused, not let through."""

    @property
    def values_file(self) -> Path:
        return CHARTS_DIR / self.name / "values.yaml"


CERT_MANAGER = Chart(name="cert-manager", chart="cert-manager", repository="https://charts.jetstack.io", version="v1.21.2")
CONTROLLERS = {
    "envoy-gateway": Chart(name="envoy-gateway", chart="oci://docker.io/envoyproxy/gateway-helm", repository=None,
                           version="v1.9.1"),
    # Their charts are in no module served here, so their pods were never admitted under
    # "restricted" in the tests: "baseline" until they are, with audit and warn showing any gap.
    "traefik": Chart(name="traefik", chart="traefik", repository="https://traefik.github.io/charts", version="39.0.7",
                     pod_security="baseline"),
    "nginx": Chart(name="ingress-nginx", chart="ingress-nginx", repository="https://kubernetes.github.io/ingress-nginx",
                   version="4.14.0", pod_security="baseline"),
}
"""The chart that installs each `edge.controller` (a `generic` one is the cluster's own business)."""
PROMETHEUS_STACK = Chart(name="kube-prometheus-stack", chart="kube-prometheus-stack",
                         repository="https://prometheus-community.github.io/helm-charts", version="80.13.3",
                         # node-exporter reads the node: host network, host PID and host paths.
                         pod_security="privileged")
ALL = (CERT_MANAGER, *CONTROLLERS.values(), PROMETHEUS_STACK)


def chart_metadata(path: Path) -> dict[str, object] | None:
    """The Chart.yaml of a chart directory or packaged chart (.tgz), or None if there is none."""
    if path.is_dir():
        file = path / "Chart.yaml"
        return yaml.safe_load(file.read_text()) if file.is_file() else None
    if path.is_file() and tarfile.is_tarfile(path):
        with tarfile.open(path) as archive:
            # A packaged chart holds one top directory, named after the chart.
            member = next((m for m in archive.getmembers() if m.name.count("/") == 1 and m.name.endswith("/Chart.yaml")), None)
            handle = archive.extractfile(member) if member else None
            return yaml.safe_load(handle.read()) if handle else None
    return None


def local_chart_problem(chart: Chart, path: Path) -> str | None:
    """Why `path` cannot stand in for the pinned `chart`, or None when it can."""
    if not path.exists():
        return f"{path} does not exist"
    try:
        metadata = chart_metadata(path)
    except (OSError, tarfile.TarError, yaml.YAMLError) as error:
        return f"{path} cannot be read as a chart: {error}"
    if not isinstance(metadata, dict):
        return f"{path} is no chart: no Chart.yaml in it"
    found = (metadata.get("name"), str(metadata.get("version")))
    pinned = (chart.chart.rsplit("/", 1)[-1], chart.version)
    if found != pinned:
        return f"{path} is {found[0]} {found[1]}, not the pinned {pinned[0]} {pinned[1]}"
    return None
