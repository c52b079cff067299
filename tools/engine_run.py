"""The real engine on a copy of the project: shared by the end-to-end tests and `make bench`.

The CLI writes into the project it runs in (`pulumi stack init` puts an encryption salt
in the stack file, `pulumi config set` edits it), so everything here runs in a copy of
the tracked files, with the virtualenvs linked in and a state backend of its own; the
repository's stack files and any `make up` state are left alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tools.recording import ROOT

PASSPHRASE = "shipyard-example"
"""The example stacks' secrets passphrase (README)."""


def tool_dir(script: str, variable: str) -> Path:
    """A bin directory as a tool's versions.sh computes it (one cache key, one place)."""
    out = subprocess.run(["bash", "-c", f"source {ROOT / script} && echo ${variable}"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def engine_bin() -> Path:
    return tool_dir("tools/engine/versions.sh", "ENGINE_BIN")


def cluster_bin() -> Path:
    return tool_dir("tools/cluster/versions.sh", "CLUSTER_BIN")


def copy_project(destination: Path) -> Path:
    """The project's tracked files (no stack files but Pulumi.yaml), virtualenvs linked in."""
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in filter(None, tracked.split("\0")):
        if (ROOT / name).is_file() and not name.startswith("Pulumi."):
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, destination / name)
    shutil.copy2(ROOT / "Pulumi.yaml", destination / "Pulumi.yaml")
    for virtualenv in (".venv", ".venv-checkov"):
        (destination / virtualenv).symlink_to(ROOT / virtualenv)
    return destination


def start_cluster() -> str:
    """The built-in cluster, started if it is not running; its kubeconfig path."""
    return subprocess.run(["bash", str(ROOT / "tools/cluster/up.sh")], capture_output=True, text=True,
                          check=True).stdout.strip()


def engine_environment(state: Path, kubeconfig: str) -> dict[str, str]:
    """The process environment for the built engine: its bin dir and the cluster's on PATH,
    a file backend in `state`, the example passphrase, and no reaching for the internet."""
    state.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "PATH": f"{engine_bin()}:{cluster_bin()}:{os.environ['PATH']}",
        "PULUMI_BACKEND_URL": f"file://{state}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "KUBECONFIG": kubeconfig,
    }


def add_stack(project: Path, name: str, source: str, environment: dict[str, str]) -> None:
    """A repository stack file copied into `project` under a new name, and its stack made."""
    shutil.copy(ROOT / f"Pulumi.{source}.yaml", project / f"Pulumi.{name}.yaml")
    pulumi(project, environment, "stack", "init", name, "--secrets-provider", "passphrase")


def pulumi(project: Path, environment: dict[str, str], *args: str, check: bool = True,
           timeout: int = 600) -> subprocess.CompletedProcess:
    command = ["pulumi", *args, "--non-interactive"]
    result = subprocess.run(command, cwd=project, env=environment, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
    return result
