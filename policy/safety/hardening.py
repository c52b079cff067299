"""Rule 2: checkov's Kubernetes checks report no failure.

checkov runs from its own virtualenv (it pins an old `packaging` that breaks
pulumi), found through $SHIPYARD_CHECKOV, then `.venv-checkov/` in the project, then
PATH. A check that cannot pass for a good reason is skipped on that object only,
with checkov's own annotation, `checkov.io/skip<N>: <CHECK>=<reason>`; the reason is
required, and a stack may rest on at most MAX_JUSTIFICATIONS distinct ones. Outside
production, failures are warnings: a development stack may run an image by tag.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from safety.model import Exemption, Finding, Report, Resource

RULE = "hardening"
TITLE = "checkov Kubernetes checks: no failures in production, justified skips only"
MAX_JUSTIFICATIONS = 5
"""Distinct (check, reason) pairs a stack may skip: a handful of decisions, each in the README."""
SKIP_ANNOTATION = re.compile(r"^checkov\.io/skip\d+$")
PROJECT_CHECKOV = Path(__file__).resolve().parents[2] / ".venv-checkov" / "bin" / "checkov"


def find_checkov() -> str | None:
    for candidate in (os.environ.get("SHIPYARD_CHECKOV"), str(PROJECT_CHECKOV), shutil.which("checkov")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def run_checkov(manifests: Sequence[Mapping[str, Any]], checkov: str) -> dict[str, Any]:
    """checkov's JSON results for these objects (passed, failed and skipped checks)."""
    # Canonical text (objects and keys in a fixed order), so the same objects hit the
    # cache however their registration happened to be ordered.
    plain = sorted((_plain(m) for m in manifests), key=lambda m: json.dumps(m, sort_keys=True))
    return _run_checkov_cached(yaml.safe_dump_all(plain, sort_keys=True), checkov)


def _plain(value: Any) -> Any:
    # The policy SDK hands over proxies of mappings and lists; checkov wants plain YAML.
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        # The engine's wire format has only doubles; checkov compares UIDs as integers.
        return int(value)
    return value


@functools.lru_cache(maxsize=32)
def _run_checkov_cached(documents: str, checkov: str) -> dict[str, Any]:
    # checkov takes seconds to start; the same objects get the same answer.
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "manifests.yaml"
        path.write_text(documents)
        completed = subprocess.run(
            [checkov, "-f", str(path), "--framework", "kubernetes", "--skip-download",
             "--output", "json", "--soft-fail"],
            capture_output=True, text=True, check=False, env={**os.environ, "LOG_LEVEL": "ERROR"},
        )
    if completed.returncode != 0:
        raise RuntimeError(f"checkov failed ({completed.returncode}): {completed.stderr.strip()[-2000:]}")
    output = json.loads(completed.stdout)
    reports = output if isinstance(output, list) else [output]
    results: dict[str, list] = {"passed_checks": [], "failed_checks": [], "skipped_checks": []}
    for item in reports:
        for key in results:
            results[key] += (item.get("results") or {}).get(key, [])
    return results


def skips(resource: Resource) -> list[tuple[str, str]]:
    """(check id, reason) for each checkov skip annotation on the object."""
    found = []
    for key, value in resource.annotations.items():
        if SKIP_ANNOTATION.match(key):
            check, _, reason = str(value).partition("=")
            found.append((check.strip(), reason.strip()))
    return found


def _label(checkov_resource: str) -> str:
    # checkov names objects Kind.namespace.name
    kind, _, rest = checkov_resource.partition(".")
    return f"{kind} {rest.split('.')[-1]}" if rest else checkov_resource


def check(resources: Sequence[Resource], environment: str, checkov: str | None = None) -> Report:
    report = Report(RULE, TITLE)
    objects = [r for r in resources if r.is_kubernetes]
    report.checked = len(objects)
    all_skips = [(r, check_id, reason) for r in objects for check_id, reason in skips(r)]
    for resource, check_id, reason in all_skips:
        if not reason:
            report.violation(resource, f"checkov skip of {check_id} gives no reason")
    justifications = {(check_id, reason) for _, check_id, reason in all_skips}
    if len(justifications) > MAX_JUSTIFICATIONS:
        report.violations.append(
            Finding(
                "stack",
                f"{len(justifications)} distinct checkov skips; at most {MAX_JUSTIFICATIONS} are allowed",
            )
        )
    checkov = checkov or find_checkov()
    if checkov is None:
        report.violations.append(
            Finding("stack", "checkov not found: run `make checkov` or set SHIPYARD_CHECKOV")
        )
        return report
    if not objects:
        return report
    results = run_checkov([r.props for r in objects], checkov)
    failures = report.violations if environment == "production" else report.warnings
    for failed in results["failed_checks"]:
        failures.append(Finding(_label(failed["resource"]), f"{failed['check_id']} {failed['check_name']}"))
    for skipped in results["skipped_checks"]:
        reason = (skipped.get("check_result") or {}).get("suppress_comment", "")
        report.exemptions.append(Exemption(_label(skipped["resource"]), skipped["check_id"], reason))
    return report


