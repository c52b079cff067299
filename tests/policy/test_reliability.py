"""policy/safety/reliability.py"""

import pytest

from safety import reliability
from safety.model import SINGLETON_ANNOTATION
from tests.policy.fixtures import budget, changed, container_of, deployment, k8s, pod_of


def check(*manifests, environment="production"):
    return reliability.check([k8s(m) for m in manifests], environment)


def violations(*manifests, environment="production"):
    return [str(v) for v in check(*manifests, environment=environment).violations]


def test_a_redundant_workload_with_a_budget_passes():
    assert violations(deployment(), budget()) == []


@pytest.mark.parametrize("probe", ["readinessProbe", "livenessProbe"])
def test_probes_are_required_everywhere(probe):
    manifest = changed(deployment(), lambda m: container_of(m).pop(probe))
    assert violations(manifest, budget(), environment="development") == [f"Deployment web: container web: no {probe}"]


@pytest.mark.parametrize(("bound", "resource"), [("requests", "cpu"), ("limits", "memory"), ("limits", "cpu")])
def test_requests_and_limits_are_required(bound, resource):
    manifest = changed(deployment(), lambda m: container_of(m)["resources"][bound].pop(resource))
    assert violations(manifest, budget()) == [f"Deployment web: container web: no {resource} {bound[:-1]}"]


def test_production_needs_two_replicas():
    assert violations(deployment(replicas=1), budget()) == ["Deployment web: replicas is 1, fewer than 2"]


def test_a_missing_replicas_field_means_one():
    assert violations(deployment(replicas=None), budget()) == ["Deployment web: replicas is 1, fewer than 2"]


def test_an_autoscaler_minimum_counts_instead_of_the_field():
    hpa = {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}, "minReplicas": 1, "maxReplicas": 5},
    }
    assert violations(deployment(replicas=None), budget(), hpa) == [
        "Deployment web: autoscaler minReplicas is 1, fewer than 2"
    ]
    hpa["spec"]["minReplicas"] = 3
    assert violations(deployment(replicas=None), budget(), hpa) == []


def test_production_needs_a_disruption_budget_that_selects_the_pods():
    assert violations(deployment()) == ["Deployment web: no PodDisruptionBudget selects its pods"]
    other = changed(budget(), lambda b: b["spec"].update(selector={"matchLabels": {"app": "other"}}))
    assert violations(deployment(), other) == ["Deployment web: no PodDisruptionBudget selects its pods"]


def test_production_needs_spread():
    manifest = changed(deployment(), lambda m: pod_of(m).pop("topologySpreadConstraints"))
    assert violations(manifest, budget()) == ["Deployment web: no topology spread or pod anti-affinity"]


def test_development_does_not_need_replicas_budget_or_spread():
    manifest = changed(deployment(replicas=1), lambda m: pod_of(m).pop("topologySpreadConstraints"))
    assert violations(manifest, environment="development") == []


def test_a_declared_singleton_is_exempt_by_name_with_its_reason():
    beat = deployment("beat", replicas=1, annotations={SINGLETON_ANNOTATION: "runs periodic tasks"})
    report = check(beat, budget())
    assert report.violations == []
    [exemption] = report.exemptions
    assert exemption.resource == "Deployment beat" and exemption.reason == "runs periodic tasks"


def test_a_singleton_still_needs_probes_and_limits():
    beat = deployment("beat", replicas=1, annotations={SINGLETON_ANNOTATION: "runs periodic tasks"})
    beat = changed(beat, lambda m: container_of(m).pop("livenessProbe"))
    assert violations(beat, budget()) == ["Deployment beat: container web: no livenessProbe"]


def test_a_singleton_declaration_needs_a_reason():
    beat = deployment("beat", replicas=1, annotations={SINGLETON_ANNOTATION: " "})
    assert violations(beat, budget()) == [f"Deployment beat: {SINGLETON_ANNOTATION} gives no reason"]


def test_jobs_are_not_long_running():
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
           "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "m:1"}]}}}}
    assert check(job).checked == 0


def test_a_budget_must_let_unready_pods_be_evicted():
    # Without it, one crash-looping pod blocks every node drain.
    stuck = changed(budget(), lambda m: m["spec"].pop("unhealthyPodEvictionPolicy"))
    assert violations(deployment(), stuck, environment="development") == [
        "PodDisruptionBudget web: unhealthyPodEvictionPolicy is unset, not AlwaysAllow: a pod that never gets ready blocks every drain"
    ]
    if_healthy = changed(budget(), lambda m: m["spec"].update(unhealthyPodEvictionPolicy="IfHealthyBudget"))
    assert len(violations(deployment(), if_healthy)) == 1


def statefulset(service: str) -> dict:
    manifest = deployment("db", replicas=1, annotations={SINGLETON_ANNOTATION: "one primary"})
    manifest["kind"] = "StatefulSet"
    manifest["spec"]["serviceName"] = service
    return manifest


def service(name: str, headless: bool) -> dict:
    spec = {"selector": {"app": "web"}, "ports": [{"port": 5432}], **({"clusterIP": "None"} if headless else {})}
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def test_a_statefulset_is_governed_by_a_headless_service():
    assert violations(statefulset("db-headless"), service("db-headless", headless=True), environment="development") == []


def test_a_statefulset_governed_by_a_cluster_ip_service_fails():
    assert violations(statefulset("db"), service("db", headless=False), environment="development") == [
        "StatefulSet db: serviceName 'db' names a Service that is not headless (clusterIP: None)"
    ]


def test_a_statefulset_governed_by_no_service_of_the_stack_fails():
    assert violations(statefulset("elsewhere"), environment="development") == [
        "StatefulSet db: serviceName 'elsewhere' names no Service of this stack"
    ]
