"""A stack's namespace and the baseline every workload in it starts from."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components import network

TYPE = "shipyard:platform:Namespace"
POD_SECURITY_LEVEL = "restricted"
ENVIRONMENT_LABEL = "shipyard.dev/environment"
"""Tells the safety rules (tests and policy pack) which environment's rules apply."""


def pod_security_labels(level: str = POD_SECURITY_LEVEL) -> dict[str, str]:
    """Pod Security admission labels: refuse, audit and warn on anything below `level`."""
    labels = {}
    for mode in ("enforce", "audit", "warn"):
        labels[f"pod-security.kubernetes.io/{mode}"] = level
        labels[f"pod-security.kubernetes.io/{mode}-version"] = "latest"
    return labels


@dataclass(frozen=True, kw_only=True)
class NamespaceArgs:
    name: str
    """The namespace to create."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels for the namespace and its policies, besides the Pod Security ones."""
    environment: str = "development"
    """development, staging or production; recorded as a namespace label."""
    dns_namespace: str = "kube-system"
    """Where the cluster DNS runs; every pod may reach it on port 53."""
    protect: bool = False
    """Guard against deletion: deleting a namespace deletes everything in it, volumes included."""


class Namespace(pulumi.ComponentResource):
    """A namespace with Pod Security "restricted", deny-all networking and DNS allowed."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: NamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        meta_labels = dict(args.labels)

        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=args.name,
                labels={
                    **meta_labels,
                    ENVIRONMENT_LABEL: args.environment,
                    **pod_security_labels(),
                },
            ),
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )
        # Children take the namespace from this output, which also orders them after it.
        self.name = namespace.metadata.name

        def metadata(policy: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(name=policy, namespace=self.name, labels=meta_labels)

        k8s.networking.v1.NetworkPolicy(
            f"{name}-default-deny",
            metadata=metadata("default-deny"),
            spec=network.policy_spec({}, ingress=[], egress=[]),
            opts=child,
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-allow-dns",
            metadata=metadata("allow-dns"),
            spec=network.policy_spec({}, egress=[network.dns_egress(args.dns_namespace)]),
            opts=child,
        )
        self.register_outputs({"name": self.name})
