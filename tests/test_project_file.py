"""Pulumi.yaml against the project-file schema of the Pulumi release the program pins.

The schema ships in Pulumi's Go SDK module (`go/common/workspace/project.json`), which
the Go module proxy serves; the CLI validates every Pulumi.yaml against it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from tools.recording import ROOT

needs_go = pytest.mark.skipif(shutil.which("go") is None, reason="Go fetches the schema from the module proxy")


def pinned_pulumi_version() -> str:
    match = re.search(r"^pulumi==(\S+)$", (ROOT / "requirements.txt").read_text(), re.MULTILINE)
    assert match, "requirements.txt pins pulumi"
    return match[1]


@pytest.fixture(scope="module")
def project_schema() -> dict:
    module = f"github.com/pulumi/pulumi/sdk/v3@v{pinned_pulumi_version()}"
    result = subprocess.run(
        ["go", "mod", "download", "-json", module], capture_output=True, text=True, timeout=600,
        env={**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    directory = Path(json.loads(result.stdout)["Dir"])
    return json.loads((directory / "go" / "common" / "workspace" / "project.json").read_text())


@needs_go
def test_pulumi_yaml_is_a_valid_project_file(project_schema):
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    errors = sorted(jsonschema.Draft202012Validator(project_schema).iter_errors(project), key=str)
    assert [e.message for e in errors] == []


@needs_go
def test_the_schema_catches_a_broken_project_file(project_schema):
    broken = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    broken["config"]["app"]["type"] = "dictionary"
    assert list(jsonschema.Draft202012Validator(project_schema).iter_errors(broken))


def test_every_object_key_is_declared_as_an_object_with_an_object_default():
    for key, declaration in yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"].items():
        if declaration["type"] == "object" and "default" in declaration:
            assert isinstance(declaration["default"], dict), key
