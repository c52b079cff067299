"""`make validate STACK=<stack>`: a stack's objects through every check, rule by rule.

First the Kubernetes schemas, in strict mode (unknown fields are errors) for the
oldest and newest Kubernetes minors the project supports, where a kind without a
schema is an error, not a skip; then the safety rules of policy/safety (hardening,
Pod Security, reliability, data safety, secret exposure).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import kubernetes_validate

from tools.gate import run_gate, summary
from tools.recording import ROOT
from tools.render import render_command

KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
CRD_VALIDATOR = ROOT / "tools" / "crd" / "validate.mjs"


def problems(manifests: Iterable[dict[str, Any]], versions: Iterable[str] = KUBERNETES_VERSIONS) -> list[str]:
    """One line per object (and Kubernetes version) that fails; empty when all pass.

    Built-in kinds are checked against the Kubernetes schemas; a kind those do not
    know goes to the CRD validators (tools/crd), and a kind neither knows is an error.
    """
    found, custom = [], []
    for manifest in manifests:
        for version in versions:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path) or "(top level)"
                found.append(f"{_label(manifest)} [k8s {version}] {where}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError:
                custom.append(manifest)
                break
    return found + custom_resource_problems(custom)


def custom_resource_problems(manifests: list[dict[str, Any]]) -> list[str]:
    """Custom resources against the schemas of their CRDs (validators from npm, see tools/crd)."""
    if not manifests:
        return []
    if not (CRD_VALIDATOR.parent / "node_modules").exists():
        return [f"{_label(m)}: CRD validators are not installed (make crd-schemas)" for m in manifests]
    completed = subprocess.run(
        ["node", str(CRD_VALIDATOR)], input=json.dumps(manifests), capture_output=True, text=True, check=True
    )
    results = json.loads(completed.stdout)
    return [f"{_label(m)} [CRD]: {r['error']}" for m, r in zip(manifests, results) if r["error"]]


def _label(manifest: dict[str, Any]) -> str:
    return f"{manifest.get('kind')} {manifest.get('metadata', {}).get('name')}"


def main(argv: list[str] | None = None) -> int:
    # The same run writes what it checks, so build/<stack>/manifests.yaml is what passed.
    stack, recording = render_command(argv, __doc__.splitlines()[0])
    manifests = recording.manifests()
    found = problems(manifests)
    versions = ", ".join(v.rsplit(".", 1)[0] for v in KUBERNETES_VERSIONS)
    print(f"stack {stack}")
    print(
        f"{'ok  ' if not found else 'FAIL'} {'schemas':<17} checked {len(manifests):3d}, "
        f"failed {len(found)}, skipped 0  (strict, Kubernetes {versions})"
    )
    for line in found:
        print(f"       FAIL {line}")
    reports = run_gate(recording)
    print(summary(reports))
    return 1 if found or not all(r.passed for r in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
