"""policy/safety/hardening.py: checkov, its skips, and how findings count."""

import pytest

from safety import hardening
from tests.policy.fixtures import changed, container_of, deployment, k8s

CHECKOV = hardening.find_checkov()
needs_checkov = pytest.mark.skipif(CHECKOV is None, reason="checkov is installed by `make checkov`")


def skip(number: int, value: str) -> dict:
    return {f"checkov.io/skip{number}": value}


@needs_checkov
def test_checkov_failures_fail_production_and_warn_elsewhere():
    privileged = changed(deployment(), lambda m: container_of(m)["securityContext"].update(privileged=True))
    production = hardening.check([k8s(privileged)], "production", CHECKOV)
    assert "Deployment web: CKV_K8S_16 Container should not be privileged" in [str(v) for v in production.violations]
    development = hardening.check([k8s(privileged)], "development", CHECKOV)
    assert development.violations == [] and any("CKV_K8S_16" in str(w) for w in development.warnings)


@needs_checkov
def test_a_justified_skip_is_an_exemption_on_that_object_only():
    privileged = changed(deployment(), lambda m: container_of(m)["securityContext"].update(privileged=True))
    skipped = changed(privileged, lambda m: m["metadata"].update(annotations=skip(1, "CKV_K8S_16=needs the GPU device")))
    other = changed(privileged, lambda m: m["metadata"].update(name="other"))
    report = hardening.check([k8s(skipped), k8s(other)], "production", CHECKOV)
    assert [(e.resource, e.what, e.reason) for e in report.exemptions if e.what == "CKV_K8S_16"] == [
        ("Deployment web", "CKV_K8S_16", "needs the GPU device")
    ]
    assert any(v.resource == "Deployment other" and "CKV_K8S_16" in v.message for v in report.violations)


def test_a_skip_without_reason_fails(monkeypatch):
    monkeypatch.setattr(hardening, "run_checkov", lambda manifests, checkov: {"failed_checks": [], "skipped_checks": []})
    manifest = deployment(annotations=skip(1, "CKV_K8S_16"))
    report = hardening.check([k8s(manifest)], "production", checkov="checkov")
    assert "Deployment web: checkov skip of CKV_K8S_16 gives no reason" in [str(v) for v in report.violations]


def test_more_than_a_handful_of_justifications_fails(monkeypatch):
    monkeypatch.setattr(hardening, "run_checkov", lambda manifests, checkov: {"failed_checks": [], "skipped_checks": []})
    annotations = {}
    for n in range(hardening.MAX_JUSTIFICATIONS + 1):
        annotations.update(skip(n, f"CKV_K8S_{n}=reason {n}"))
    report = hardening.check([k8s(deployment(annotations=annotations))], "production", checkov="checkov")
    assert [str(v) for v in report.violations] == [
        f"stack: {hardening.MAX_JUSTIFICATIONS + 1} distinct checkov skips; at most {hardening.MAX_JUSTIFICATIONS} are allowed"
    ]


def test_one_justification_on_several_objects_counts_once(monkeypatch):
    monkeypatch.setattr(hardening, "run_checkov", lambda manifests, checkov: {"failed_checks": [], "skipped_checks": []})
    same = skip(1, "CKV_K8S_35=reads its environment")
    objects = [k8s(deployment(f"w{n}", annotations=same)) for n in range(hardening.MAX_JUSTIFICATIONS + 3)]
    assert hardening.check(objects, "production", checkov="checkov").violations == []


def test_missing_checkov_is_a_failure_not_a_pass(monkeypatch):
    monkeypatch.setattr(hardening, "find_checkov", lambda: None)
    report = hardening.check([k8s(deployment())], "production")
    assert [str(v) for v in report.violations] == ["stack: checkov not found: run `make checkov` or set SHIPYARD_CHECKOV"]
