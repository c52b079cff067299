"""The end-to-end tier: the real Pulumi engine against the built-in control plane.

Needs what `make e2e` builds first (the engine and the cluster, tools/engine and
tools/cluster; nothing is built here). The tests run in a copy of the project (its
tracked files, sharing its virtualenvs) with a state backend of their own, and each test
stack is a repository stack file copied under a new name: the CLI writes into stack files
(`pulumi config set`, a new stack's encryption salt), and the repository's own and any
`make up` state are left alone.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "shipyard-example"


def _tool_dir(script: str, variable: str) -> Path:
    """A bin directory as the tools' versions.sh computes it (one cache key, one place)."""
    out = subprocess.run(["bash", "-c", f"source {script} && echo ${variable}"], capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tracked files in a temporary directory, with its virtualenvs linked in."""
    copy = tmp_path_factory.mktemp("project")
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file() and not name.startswith("Pulumi."):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    shutil.copy2(ROOT / "Pulumi.yaml", copy / "Pulumi.yaml")
    for virtualenv in (".venv", ".venv-checkov"):
        (copy / virtualenv).symlink_to(ROOT / virtualenv)
    return copy


@pytest.fixture(scope="session")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    engine = _tool_dir(str(ROOT / "tools/engine/versions.sh"), "ENGINE_BIN")
    cluster = _tool_dir(str(ROOT / "tools/cluster/versions.sh"), "CLUSTER_BIN")
    missing = [str(b) for b in (engine / "pulumi", cluster / "kubectl") if not b.exists()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)}; run `make e2e` (it builds the engine and the cluster first)")
    kubeconfig = subprocess.run(["bash", str(ROOT / "tools/cluster/up.sh")], capture_output=True, text=True, check=True).stdout.strip()
    reclaim_volumes()
    state = tmp_path_factory.mktemp("state")
    return {
        **os.environ,
        "PATH": f"{engine}:{cluster}:{os.environ['PATH']}",
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "KUBECONFIG": kubeconfig,
    }


def reclaim_volumes() -> None:
    """Volumes released by earlier stacks serve the next ones (tools/cluster/reclaim.sh)."""
    subprocess.run(["bash", str(ROOT / "tools/cluster/reclaim.sh")], capture_output=True, text=True, check=True)


class Stack:
    """One test stack: a repository stack file copied into the project copy under a new name."""

    def __init__(self, name: str, source: str, project: Path, environment: dict[str, str]):
        self.name = name
        self.project = project
        shutil.copy(ROOT / f"Pulumi.{source}.yaml", project / f"Pulumi.{name}.yaml")
        self.environment = environment

    def pulumi(self, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
        command = ["pulumi", *args, "--stack", self.name, "--non-interactive"]
        result = subprocess.run(command, cwd=self.project, env=self.environment, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
        return result

    def up(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.pulumi("up", "--yes", "--policy-pack", "policy", *args, check=check)

    def set(self, path: str, value: str) -> None:
        # --type string: with --path the CLI would store `false` or `5` as a bool or a number.
        self.pulumi("config", "set", "--path", "--type", "string", path, value)

    def output(self, name: str) -> Any:
        return json.loads(self.pulumi("stack", "output", name, "--json").stdout)

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return kubectl(self.environment, *args, check=check)


def kubectl(environment: dict[str, str], *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(["kubectl", *args], env=environment, capture_output=True, text=True, timeout=360)
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}")
    return result


def objects(environment: dict[str, str], kind: str, namespace: str) -> list[dict[str, Any]]:
    return json.loads(kubectl(environment, "-n", namespace, "get", kind, "-o", "json").stdout)["items"]


@pytest.fixture(scope="module")
def stacks(project: Path, environment: dict[str, str]) -> Iterator[Callable[[str, str], Stack]]:
    """Makes test stacks; afterwards destroys each, protected or not, and its namespace."""
    made: dict[str, Stack] = {}

    # A name of this run's own: a namespace still terminating from an earlier run (the
    # database pod's 90 s of grace) must not be in the way.
    run = secrets.token_hex(2)

    def make(name: str, source: str) -> Stack:
        stack = Stack(f"{name}-{run}", source, project, environment)
        stack.pulumi("stack", "init", "--secrets-provider", "passphrase")
        made[name] = stack
        return stack

    yield make
    for stack in made.values():
        # Unprotect, destroy, then delete the namespace that retain_on_delete kept.
        stack.pulumi("state", "unprotect", "--all", "--yes", check=False)
        namespace = None
        try:
            namespace = stack.output("namespace")
        except (AssertionError, json.JSONDecodeError):
            pass
        stack.pulumi("destroy", "--yes", "--remove", check=False)
        if namespace:
            kubectl(environment, "delete", "namespace", namespace, "--ignore-not-found", "--timeout=300s", check=False)
    reclaim_volumes()
