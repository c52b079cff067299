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
import secrets
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.servers import wait_for
from tools import engine_run

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return engine_run.copy_project(tmp_path_factory.mktemp("project"))


@pytest.fixture(scope="session")
def environment(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    missing = [str(b) for b in (engine_run.engine_bin() / "pulumi", engine_run.cluster_bin() / "kubectl") if not b.exists()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)}; run `make e2e` (it builds the engine and the cluster first)")
    kubeconfig = engine_run.start_cluster()
    reclaim_volumes()
    return engine_run.engine_environment(tmp_path_factory.mktemp("state"), kubeconfig)


def reclaim_volumes() -> None:
    """Volumes released by earlier stacks serve the next ones (tools/cluster/reclaim.sh)."""
    subprocess.run(["bash", str(ROOT / "tools/cluster/reclaim.sh")], capture_output=True, text=True, check=True)


class Stack:
    """One test stack: a repository stack file copied into the project copy under a new name."""

    def __init__(self, name: str, source: str, project: Path, environment: dict[str, str]):
        self.name = name
        self.project = project
        self.environment = environment
        engine_run.add_stack(project, name, source, environment)

    def pulumi(self, *args: str, check: bool = True, timeout: int = 600) -> subprocess.CompletedProcess:
        return engine_run.pulumi(self.project, self.environment, *args, "--stack", self.name, check=check, timeout=timeout)

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


def assert_all_ready(environment, namespace: str, tolerated: tuple[str, ...] = ()) -> None:
    """`tolerated`: parts of pod-creation errors that may occur on the way (and were retried)."""
    def deployments_ready() -> bool:
        # An autoscaled Deployment is ready at one replica when `up` returns; the
        # autoscaler then raises it to its minimum.
        return all(
            d["status"].get("readyReplicas") == d["spec"]["replicas"] == d["status"].get("updatedReplicas")
            for d in objects(environment, "deployments", namespace)
        )

    wait_for(deployments_ready, f"every Deployment in {namespace} ready", seconds=120)
    for stateful_set in objects(environment, "statefulsets", namespace):
        assert stateful_set["status"].get("readyReplicas") == stateful_set["spec"]["replicas"], stateful_set["metadata"]["name"]
    for job in objects(environment, "jobs", namespace):
        # A run a CronJob started a moment ago (a schedule of every few minutes) may still
        # be going; it must not have failed. Every other Job has completed.
        scheduled = any(o["kind"] == "CronJob" for o in job["metadata"].get("ownerReferences") or [])
        done = job["status"].get("succeeded") == 1
        assert done or (scheduled and not job["status"].get("failed")), job["metadata"]["name"]
    # A claim binds when its first pod is scheduled (WaitForFirstConsumer, as with real
    # local volumes): every claim a pod uses is bound; an unused one (the backup volume,
    # before the first backup) may wait.
    in_use = {volume["persistentVolumeClaim"]["claimName"] for pod in objects(environment, "pods", namespace)
              for volume in pod["spec"].get("volumes") or [] if "persistentVolumeClaim" in volume}
    for claim in objects(environment, "persistentvolumeclaims", namespace):
        name = claim["metadata"]["name"]
        assert claim["status"]["phase"] == "Bound" or (name not in in_use and claim["status"]["phase"] == "Pending"), name
    # Pod Security "restricted" is enforced on the namespace and refused no pod.
    namespace_labels = kubectl(environment, "get", "namespace", namespace, "-o", "jsonpath={.metadata.labels}").stdout
    assert '"pod-security.kubernetes.io/enforce":"restricted"' in namespace_labels
    events = json.loads(kubectl(environment, "-n", namespace, "get", "events", "--field-selector", "reason=FailedCreate",
                                "-o", "json").stdout)["items"]
    refusals = [e["message"] for e in events if not any(t in e["message"] for t in tolerated)]
    assert refusals == []


@pytest.fixture(scope="module")
def stacks(project: Path, environment: dict[str, str]) -> Iterator[Callable[[str, str], Stack]]:
    """Makes test stacks; afterwards destroys each, protected or not, and its namespace."""
    made: dict[str, Stack] = {}

    # A name of this run's own: a namespace still terminating from an earlier run (the
    # database pod's 90 s of grace) must not be in the way.
    run = secrets.token_hex(2)

    def make(name: str, source: str) -> Stack:
        stack = Stack(f"{name}-{run}", source, project, environment)
        made[name] = stack
        return stack

    yield make
    for stack in made.values():
        # Unprotect, destroy, then delete the namespace that retain_on_delete kept.
        stack.pulumi("state", "unprotect", "--all", "--yes", check=False)
        namespace = None
        try:
            namespace = stack.output("namespace")
        except (RuntimeError, json.JSONDecodeError):
            pass
        stack.pulumi("destroy", "--yes", "--remove", check=False)
        if namespace:
            kubectl(environment, "delete", "namespace", namespace, "--ignore-not-found", "--timeout=300s", check=False)
    reclaim_volumes()
