"""The GitHub workflows: valid (actionlint), and doing what the README promises."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from tools.recording import ROOT
from tools.stacks import stack_names

WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".tools" / "bin" / "actionlint"
needs_actionlint = pytest.mark.skipif(not ACTIONLINT.exists(), reason="built by `make actionlint`")


def actionlint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(ACTIONLINT), "-no-color", *map(str, paths)], capture_output=True, text=True, cwd=ROOT)


def workflow(name: str) -> dict:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def steps(job: dict) -> list[dict]:
    return job["steps"]


@needs_actionlint
def test_workflows_pass_actionlint():
    result = actionlint(*sorted(WORKFLOWS.glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_actionlint
def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    assert actionlint(broken).returncode != 0


def run_lines(job: dict) -> list[str]:
    return [line.strip() for step in steps(job) for line in step.get("run", "").splitlines()]


def test_pull_requests_run_the_tests_then_preview_every_stack_with_the_local_command():
    jobs = workflow("pull-request.yml")["jobs"]
    assert "make unit" in run_lines(jobs["test"])
    preview = jobs["preview"]
    assert preview["needs"] == "test"
    assert sorted(preview["strategy"]["matrix"]["stack"]) == stack_names()
    # `make preview` runs the policy pack (tools/deploy.sh); no second way to preview.
    assert "make preview STACK=${{ matrix.stack }} 2>&1 | tee preview.txt" in run_lines(preview)
    assert not [s for s in steps(preview) if s.get("uses", "").startswith("pulumi/actions@") and s.get("with")]
    [comment] = [s for s in steps(preview) if s.get("uses", "").startswith("marocchino/sticky-pull-request-comment@")]
    assert comment["with"]["path"] == "preview.txt" and comment["if"] == "always()"


def test_workflow_providers_are_the_versions_the_sdks_pin():
    for name in ("pull-request.yml", "deploy.yml"):
        job = next(j for j in workflow(name)["jobs"].values() if any("plugin install" in line for line in run_lines(j)))
        lines = [line for line in run_lines(job) if "plugin install" in line]
        assert any("kubernetes" in line and "pulumi-kubernetes==" in line for line in lines), name
        assert any("random" in line and "pulumi-random==" in line for line in lines), name


def test_main_deploys_prod_behind_the_protected_environment():
    spec = workflow("deploy.yml")
    assert spec[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True
    job = spec["jobs"]["up"]
    assert job["environment"] == "production"
    lines = run_lines(job)
    assert lines.index("make unit") < lines.index("make up STACK=prod")
