"""Rule 6 (the part a policy can see): credentials are never stored as plain values.

A ConfigMap key, a container's literal `env` value or an annotation whose name
says it holds a credential is refused: those are stored and shown in clear text.
The stronger check, that known secret values appear nowhere but in Secrets and
secret outputs, needs the values themselves and runs in the test suite.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from safety.model import Report, Resource, all_containers, workloads

RULE = "secret-exposure"
TITLE = "no credentials in ConfigMaps, literal env values or annotations"

CREDENTIAL_NAME = re.compile(r"(PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|LICENSE_KEY|CREDENTIALS?|_DSN)$|SECRET", re.IGNORECASE)
# Names that mention a secret without holding one.
_REFERENCES = re.compile(r"(_FILE|_NAME|_REF|_PATH)$|^checksum/|^checkov\.io/", re.IGNORECASE)


def looks_like_credential(name: str) -> bool:
    return bool(CREDENTIAL_NAME.search(name)) and not _REFERENCES.search(name)


def check(resources: Sequence[Resource], environment: str) -> Report:
    report = Report(RULE, TITLE)
    for resource in resources:
        if not resource.is_kubernetes or resource.kind == "Secret":
            continue
        report.checked += 1
        if resource.kind == "ConfigMap":
            for key in resource.props.get("data") or {}:
                if looks_like_credential(key):
                    report.violation(resource, f"data key {key} looks like a credential; use a Secret")
        for key in resource.annotations:
            if looks_like_credential(key):
                report.violation(resource, f"annotation {key} looks like a credential")
    for workload, pod in workloads(resources):
        for container in all_containers(pod):
            for env in container.get("env") or []:
                if "value" in env and looks_like_credential(env.get("name", "")):
                    report.violation(
                        workload,
                        f"container {container.get('name')}: env {env['name']} has a literal value; "
                        "use valueFrom.secretKeyRef",
                    )
    return report
