"""Cluster add-ons (cert-manager, the edge controller, kube-prometheus-stack) as Helm releases."""

from components.addons.component import ClusterAddons, ClusterAddonsArgs
from components.addons.spec import AddonsSpec

__all__ = ["AddonsSpec", "ClusterAddons", "ClusterAddonsArgs"]
