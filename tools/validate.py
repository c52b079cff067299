"""`make validate STACK=<stack>`: rendered objects against the Kubernetes schemas.

Strict mode (unknown fields are errors) for the oldest and newest Kubernetes minors
the project supports. A kind without a schema is an error, not a skip.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import kubernetes_validate
import yaml

from tools.recording import ROOT

KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")


def problems(manifests: Iterable[dict[str, Any]], versions: Iterable[str] = KUBERNETES_VERSIONS) -> list[str]:
    """One line per object and version that fails; empty when all pass."""
    found = []
    for manifest in manifests:
        label = f"{manifest.get('kind')} {manifest.get('metadata', {}).get('name')}"
        for version in versions:
            try:
                kubernetes_validate.validate(manifest, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path) or "(top level)"
                found.append(f"{label} [k8s {version}] {where}: {error.message}")
            except kubernetes_validate.SchemaNotFoundError:
                found.append(f"{label} [k8s {version}]: no schema for {manifest.get('apiVersion')} {manifest.get('kind')}")
    return found


def load(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack")
    stack = parser.parse_args(argv).stack
    path = ROOT / "build" / stack / "manifests.yaml"
    if not path.exists():
        print(f"{path.relative_to(ROOT)} is missing: run make render STACK={stack}", file=sys.stderr)
        return 2
    manifests = load(path)
    found = problems(manifests)
    versions = ", ".join(v.rsplit(".", 1)[0] for v in KUBERNETES_VERSIONS)
    for line in found:
        print(f"FAIL {line}")
    print(f"schemas (strict, Kubernetes {versions}): {len(manifests)} objects, {len(found)} failures")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
