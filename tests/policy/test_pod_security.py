"""policy/safety/pod_security.py: each "restricted" control catches its violation."""

import pytest

from safety import pod_security
from tests.policy.fixtures import changed, container_of, deployment, k8s, pod_of


def violations(manifest):
    return [str(v) for v in pod_security.check([k8s(manifest)], "production").violations]


def test_a_restricted_pod_passes():
    assert violations(deployment()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: pod_of(m).update(hostNetwork=True), "hostNetwork is true"),
        (lambda m: pod_of(m).update(hostPID=True), "hostPID is true"),
        (lambda m: pod_of(m)["volumes"].append({"name": "h", "hostPath": {"path": "/"}}), "volume h uses hostPath"),
        (lambda m: container_of(m)["securityContext"].update(privileged=True), "privileged"),
        (lambda m: container_of(m)["securityContext"].pop("allowPrivilegeEscalation"), "allowPrivilegeEscalation is not false"),
        (lambda m: container_of(m)["securityContext"].update(capabilities={"drop": ["NET_RAW"]}), "do not drop ALL"),
        (lambda m: container_of(m)["securityContext"]["capabilities"].update(add=["SYS_ADMIN"]), "capabilities add SYS_ADMIN"),
        (lambda m: container_of(m)["securityContext"].update(runAsNonRoot=False), "runAsNonRoot is not true"),
        (lambda m: container_of(m)["securityContext"].update(runAsUser=0), "runAsUser is 0"),
        (lambda m: container_of(m)["securityContext"].update(seccompProfile={"type": "Unconfined"}), "seccompProfile is Unconfined"),
        (lambda m: container_of(m).update(ports=[{"containerPort": 80, "hostPort": 80}]), "hostPort 80"),
        (lambda m: pod_of(m)["securityContext"].update(sysctls=[{"name": "kernel.msgmax", "value": "1"}]), "sysctl kernel.msgmax"),
        (lambda m: container_of(m)["securityContext"].update(procMount="Unmasked"), "procMount is Unmasked"),
    ],
)
def test_each_control_is_enforced(change, expected):
    found = violations(changed(deployment(), change))
    assert len(found) == 1 and expected in found[0], found


def test_non_root_may_come_from_the_pod_alone():
    manifest = changed(deployment(), lambda m: container_of(m)["securityContext"].pop("runAsNonRoot"))
    assert violations(manifest) == []


def test_non_root_must_come_from_somewhere():
    def strip(m):
        container_of(m)["securityContext"].pop("runAsNonRoot")
        pod_of(m)["securityContext"].pop("runAsNonRoot")

    assert any("runAsNonRoot" in v for v in violations(changed(deployment(), strip)))


def test_init_containers_are_checked_too():
    manifest = changed(deployment(), lambda m: pod_of(m).update(initContainers=[{"name": "init", "image": "x:1"}]))
    assert any(v.startswith("Deployment web: container init:") for v in violations(manifest))


def test_cron_job_pods_are_checked():
    cron = {
        "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "backup"},
        "spec": {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:1"}]}}}}},
    }
    report = pod_security.check([k8s(cron)], "development")
    assert report.checked == 1 and report.violations
