"""What the safety rules look at, independent of where it comes from.

The same `Resource` is built from the recording mock (pytest gate, `make validate`)
and from the policy SDK's view of a stack (`pulumi preview --policy-pack policy`),
so each rule is written once and runs in both places.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

ENVIRONMENT_LABEL = "shipyard.dev/environment"
SINGLETON_ANNOTATION = "shipyard.dev/singleton"
"""On a workload that must run as one pod; its value says why. Exempts that object,
and only that object, from the replica, disruption-budget and spread rules."""

LONG_RUNNING_KINDS = ("Deployment", "StatefulSet", "DaemonSet")
POD_TEMPLATE_KINDS = (*LONG_RUNNING_KINDS, "ReplicaSet", "Job")


@dataclass(frozen=True)
class Resource:
    """One resource of a stack: its properties and the options that guard it."""

    type: str
    """Pulumi type token, e.g. `kubernetes:apps/v1:Deployment`."""
    name: str
    """Pulumi resource name."""
    props: Mapping[str, Any]
    urn: str = ""
    protect: bool = False
    retain_on_delete: bool | None = None
    """None where the source cannot see the option (the policy SDK does not expose it)."""
    delete_before_replace: bool = False
    replace_on_changes: tuple[str, ...] | None = None
    """None where the source cannot see the option."""

    @property
    def is_kubernetes(self) -> bool:
        return self.type.startswith("kubernetes:") and "kind" in self.props

    @property
    def kind(self) -> str:
        return self.props.get("kind", "") if self.is_kubernetes else self.type

    @property
    def metadata(self) -> Mapping[str, Any]:
        return self.props.get("metadata") or {}

    @property
    def annotations(self) -> Mapping[str, str]:
        return self.metadata.get("annotations") or {}

    @property
    def labels(self) -> Mapping[str, str]:
        return self.metadata.get("labels") or {}

    @property
    def label(self) -> str:
        """How findings name the resource: `Deployment blockscore`, or the Pulumi name."""
        if self.is_kubernetes:
            return f"{self.kind} {self.metadata.get('name', self.name)}"
        return f"{self.type.split(':')[-1]} {self.name}"


@dataclass(frozen=True)
class Finding:
    resource: str
    message: str
    urn: str = ""

    def __str__(self) -> str:
        return f"{self.resource}: {self.message}"


@dataclass(frozen=True)
class Exemption:
    resource: str
    what: str
    reason: str


@dataclass
class Report:
    """One rule's verdict on a stack."""

    rule: str
    title: str
    checked: int = 0
    violations: list[Finding] = field(default_factory=list)
    exemptions: list[Exemption] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    """Findings that are advice only here (outside production), not failures."""

    def violation(self, resource: Resource, message: str) -> None:
        self.violations.append(Finding(resource.label, message, resource.urn))

    @property
    def passed(self) -> bool:
        return not self.violations


def stack_environment(resources: Sequence[Resource]) -> str:
    """The environment the stack's namespace declares; production when none does."""
    for resource in resources:
        if resource.kind == "Namespace" and ENVIRONMENT_LABEL in resource.labels:
            return resource.labels[ENVIRONMENT_LABEL]
    return "production"


def pod_spec(resource: Resource) -> Mapping[str, Any] | None:
    """The pod spec a workload creates pods from, or None for other kinds."""
    spec = resource.props.get("spec") or {}
    if resource.kind == "Pod":
        return spec
    if resource.kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template", {}).get("spec")
    if resource.kind in POD_TEMPLATE_KINDS:
        return (spec.get("template") or {}).get("spec")
    return None


def pod_labels(resource: Resource) -> Mapping[str, str]:
    spec = resource.props.get("spec") or {}
    return ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}


def all_containers(pod: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in ("initContainers", "containers", "ephemeralContainers"):
        yield from pod.get(key) or []


def workloads(resources: Sequence[Resource]) -> Iterator[tuple[Resource, Mapping[str, Any]]]:
    for resource in resources:
        if resource.is_kubernetes:
            pod = pod_spec(resource)
            if pod is not None:
                yield resource, pod
