"""Render mode: the real engine writing YAML (`kubernetes:renderYamlToDirectory`) gives the
objects `make render` gives under mocks.

The only differences allowed are what derives from generated passwords and decrypted
config (Secret values, the environment checksum, and the migration Job's name, a hash
of its pod) and the form of Secret data (`stringData` in, `data` out).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tools.recording import run_program
from tools.stacks import config_for

pytestmark = pytest.mark.e2e

# What depends on generated passwords or on the decrypted config values.
DERIVED = re.compile(r"^(checksum/.*)$")
HASHED_JOB = re.compile(r"-migrate-[0-9a-f]{10}$")


def comparable(manifest: dict[str, Any]) -> dict[str, Any]:
    copy = yaml.safe_load(yaml.safe_dump(manifest))
    copy["metadata"]["name"] = HASHED_JOB.sub("-migrate-<hash>", copy["metadata"]["name"])
    template = (copy.get("spec") or {}).get("template") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    for name in list(annotations):
        if DERIVED.match(name):
            annotations[name] = "<derived>"
    if copy["kind"] == "Secret":
        values = copy.pop("stringData", None) or {k: base64.b64decode(v).decode() for k, v in copy.pop("data", {}).items()}
        copy["keys"] = sorted(values)
    return copy


def by_identity(manifests: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(m["kind"], comparable(m)["metadata"]["name"]): comparable(m) for m in manifests}


@pytest.mark.parametrize("source", ["prod", "loan-lifecycle"])
def test_render_mode_gives_the_objects_make_render_gives(stacks, tmp_path: Path, source: str):
    stack = stacks(f"render-{source}", source)
    out = tmp_path / "rendered"
    stack.pulumi("config", "set", "kubernetes:renderYamlToDirectory", str(out))
    stack.pulumi("up", "--yes")
    engine = [d for f in sorted(out.glob("*/*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]
    # `make render` of the same stack file, under the test stack's name (labels, namespace).
    config, secret_keys = config_for(source)
    mocked = [r.inputs for r in run_program(stack.name, config, secret_keys=secret_keys).kubernetes_objects()]
    assert len(engine) == len(mocked)
    assert by_identity(engine) == by_identity(mocked)
