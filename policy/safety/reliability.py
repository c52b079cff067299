"""Rule 4: long-running workloads stay up (what kube-score and Polaris check).

Everywhere: readiness and liveness probes, CPU and memory requests and limits.
In production also: at least two replicas (or an autoscaler that never goes
below two), a PodDisruptionBudget and topology spread. A workload that must be a
singleton says so, with its reason, in its own `shipyard.dev/singleton` annotation.

And the objects around them: a StatefulSet is governed by a headless Service of
the stack (its pods' stable DNS names come from it), and every disruption budget
lets a pod that is not ready be evicted (`unhealthyPodEvictionPolicy: AlwaysAllow`),
so one crash-looping pod cannot block every node drain.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from safety.model import (
    LONG_RUNNING_KINDS,
    SINGLETON_ANNOTATION,
    Exemption,
    Report,
    Resource,
    pod_labels,
    workloads,
)

RULE = "reliability"
TITLE = "probes, requests and limits, headless governing Services, drainable budgets; in production replicas, budgets and spread"
MIN_PRODUCTION_REPLICAS = 2


def container_problems(container: Mapping[str, Any]) -> list[str]:
    problems = []
    for probe in ("readinessProbe", "livenessProbe"):
        if not container.get(probe):
            problems.append(f"no {probe}")
    resources = container.get("resources") or {}
    for bound in ("requests", "limits"):
        for resource in ("cpu", "memory"):
            if not (resources.get(bound) or {}).get(resource):
                problems.append(f"no {resource} {bound[:-1]}")
    return problems


def _selects(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    match = selector.get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items()) and not selector.get("matchExpressions")


def _autoscaler_minimum(resources: Sequence[Resource], workload: Resource) -> int | None:
    for resource in resources:
        if resource.kind != "HorizontalPodAutoscaler":
            continue
        spec = resource.props.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if target.get("kind") == workload.kind and target.get("name") == workload.metadata.get("name"):
            return spec.get("minReplicas", 1)
    return None


def production_problems(resources: Sequence[Resource], workload: Resource, pod: Mapping[str, Any]) -> list[str]:
    problems = []
    spec = workload.props.get("spec") or {}
    minimum = _autoscaler_minimum(resources, workload)
    replicas = minimum if minimum is not None else spec.get("replicas", 1)
    if workload.kind != "DaemonSet" and replicas < MIN_PRODUCTION_REPLICAS:
        source = "autoscaler minReplicas" if minimum is not None else "replicas"
        problems.append(f"{source} is {replicas}, fewer than {MIN_PRODUCTION_REPLICAS}")
    labels = pod_labels(workload)
    budgets = [
        r for r in resources
        if r.kind == "PodDisruptionBudget" and _selects((r.props.get("spec") or {}).get("selector") or {}, labels)
    ]
    if not budgets:
        problems.append("no PodDisruptionBudget selects its pods")
    spread = pod.get("topologySpreadConstraints") or (pod.get("affinity") or {}).get("podAntiAffinity")
    if workload.kind != "DaemonSet" and not spread:
        problems.append("no topology spread or pod anti-affinity")
    return problems


def governing_service_problem(resources: Sequence[Resource], statefulset: Resource) -> str | None:
    name = (statefulset.props.get("spec") or {}).get("serviceName")
    namespace = statefulset.metadata.get("namespace")
    services = [
        r for r in resources
        if r.kind == "Service" and r.metadata.get("name") == name and r.metadata.get("namespace") == namespace
    ]
    if not name or not services:
        return f"serviceName {name!r} names no Service of this stack"
    if (services[0].props.get("spec") or {}).get("clusterIP") != "None":
        return f"serviceName {name!r} names a Service that is not headless (clusterIP: None)"
    return None


def budget_problem(budget: Resource) -> str | None:
    policy = (budget.props.get("spec") or {}).get("unhealthyPodEvictionPolicy")
    if policy != "AlwaysAllow":
        return f"unhealthyPodEvictionPolicy is {policy or 'unset'}, not AlwaysAllow: a pod that never gets ready blocks every drain"
    return None


def check(resources: Sequence[Resource], environment: str) -> Report:
    report = Report(RULE, TITLE)
    for resource in resources:
        problem = None
        if resource.kind == "StatefulSet":
            problem = governing_service_problem(resources, resource)
        elif resource.kind == "PodDisruptionBudget":
            report.checked += 1
            problem = budget_problem(resource)
        if problem:
            report.violation(resource, problem)
    for workload, pod in workloads(resources):
        if workload.kind not in LONG_RUNNING_KINDS:
            continue
        report.checked += 1
        for container in pod.get("containers") or []:
            for problem in container_problems(container):
                report.violation(workload, f"container {container.get('name')}: {problem}")
        if environment != "production":
            continue
        problems = production_problems(resources, workload, pod)
        reason = workload.annotations.get(SINGLETON_ANNOTATION, "").strip()
        if reason and problems:
            report.exemptions.append(Exemption(workload.label, "; ".join(problems), reason))
        elif SINGLETON_ANNOTATION in workload.annotations and not reason:
            report.violation(workload, f"{SINGLETON_ANNOTATION} gives no reason")
        else:
            for problem in problems:
                report.violation(workload, problem)
    return report
