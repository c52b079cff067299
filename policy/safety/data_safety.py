"""Rule 5: in production, what holds data cannot be deleted or replaced by accident.

Stateful resources (namespaces, StatefulSets, volume claims, Secrets, generated
keys) must be protected (`protect`) and kept in the cluster if removed from the
program (`retain_on_delete`); none may opt into `delete_before_replace` or
`replace_on_changes`, which delete first and ask later; and a StatefulSet must keep
its volume claims when it is deleted or scaled down.
"""

from __future__ import annotations

from collections.abc import Sequence

from safety.model import Report, Resource

RULE = "data-safety"
TITLE = "stateful resources protected and retained in production"

STATEFUL_KINDS = frozenset({"Namespace", "StatefulSet", "PersistentVolumeClaim", "Secret"})
GENERATED_SECRET_TYPES = frozenset(
    {
        "random:index/randomPassword:RandomPassword",
        "random:index/randomString:RandomString",
        "random:index/randomBytes:RandomBytes",
        "random:index/randomId:RandomId",
    }
)


def is_stateful(resource: Resource) -> bool:
    if resource.is_kubernetes:
        return resource.kind in STATEFUL_KINDS
    return resource.type in GENERATED_SECRET_TYPES


def problems(resource: Resource) -> list[str]:
    found = []
    if resource.kind == "StatefulSet" and (resource.props.get("spec") or {}).get("volumeClaimTemplates"):
        policy = (resource.props.get("spec") or {}).get("persistentVolumeClaimRetentionPolicy") or {}
        # Kubernetes' default is Retain; an explicit Delete removes the volumes with the pods.
        for when in ("whenDeleted", "whenScaled"):
            if policy.get(when, "Retain") != "Retain":
                found.append(f"volume claims are not retained ({when}: {policy[when]})")
    if not resource.protect:
        found.append("not protected (protect)")
    if resource.retain_on_delete is False:
        found.append("not retained on delete (retain_on_delete)")
    if resource.delete_before_replace:
        found.append("delete_before_replace is set")
    if resource.replace_on_changes:
        found.append(f"replace_on_changes is set ({', '.join(resource.replace_on_changes)})")
    return found


def check(resources: Sequence[Resource], environment: str) -> Report:
    report = Report(RULE, TITLE)
    if environment != "production":
        return report
    for resource in resources:
        if is_stateful(resource):
            report.checked += 1
            for problem in problems(resource):
                report.violation(resource, problem)
    return report
