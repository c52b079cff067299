"""Render mode: the real engine writing YAML (`kubernetes:renderYamlToDirectory`) gives the
objects `make render` gives under mocks, and that export, applied with plain `kubectl
apply`, keeps the migration-before-rollout order the engine keeps.

The only differences allowed are what derives from generated passwords and decrypted
config (Secret values, the environment checksum, and the migration revision: the Job's
name, a hash of its pod, which app pods wait for), the form of Secret data (`stringData`
in, `data` out), and the `namespace: default` render mode writes into cluster-scoped
custom resources.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.database.rollout import RECORD_CONTAINER, RECORD_SCRIPT, REVISION_VARIABLE, WAIT_CONTAINER, WAIT_SCRIPT
from tests.conftest import step, steps
from tests.e2e.conftest import assert_all_ready, kubectl, objects
from tools.recording import run_program
from tools.stacks import config_for

pytestmark = pytest.mark.e2e

# What depends on generated passwords or on the decrypted config values.
DERIVED = re.compile(r"^(checksum/.*)$")
# The Job's name and the revision app pods wait for, wherever it appears.
REVISION = re.compile(r"-migrate-[0-9a-f]{10}\b")


# Without a cluster, render mode cannot look up a custom resource's scope and writes
# `namespace: default` into cluster-scoped ones; the API server ignores it for them.
CLUSTER_SCOPED_CUSTOM = {"ClusterIssuer"}


def comparable(manifest: dict[str, Any]) -> dict[str, Any]:
    copy = yaml.safe_load(REVISION.sub("-migrate-<hash>", yaml.safe_dump(manifest)))
    if copy["kind"] in CLUSTER_SCOPED_CUSTOM and copy["metadata"].get("namespace") == "default":
        del copy["metadata"]["namespace"]
    spec = copy.get("spec") or {}
    # A CronJob's pod template sits inside its job template.
    template = spec.get("template") or ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
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


@pytest.fixture(scope="module")
def export(stacks, tmp_path_factory):
    """`pulumi up` in render mode, once per source stack file: the stack and its directory."""
    made: dict[str, tuple[Any, Path]] = {}

    def render(source: str):
        if source not in made:
            stack = stacks(f"render-{source}", source)
            out = tmp_path_factory.mktemp(f"rendered-{source}")
            stack.pulumi("config", "set", "kubernetes:renderYamlToDirectory", str(out))
            stack.pulumi("up", "--yes")
            made[source] = (stack, out)
        return made[source]

    return render


def documents(out: Path) -> list[dict[str, Any]]:
    return [d for f in sorted(out.glob("*/*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


# Every stack whose components the others lack: RabbitMQ (flowlet), the frontend (bike-lifecycle).
@pytest.mark.parametrize("source", ["prod", "loan-lifecycle", "flowlet", "bike-lifecycle"])
def test_render_mode_gives_the_objects_make_render_gives(export, source: str):
    stack, out = export(source)
    engine = documents(out)
    # `make render` of the same stack file, under the test stack's name (labels, namespace).
    config, secret_keys = config_for(source)
    mocked = [r.inputs for r in run_program(stack.name, config, secret_keys=secret_keys).kubernetes_objects()]
    assert len(engine) == len(mocked)
    engine_objects, mocked_objects = by_identity(engine), by_identity(mocked)
    differing = {f"{kind} {name}": {"engine": engine_objects.get((kind, name)), "mocks": mocked_objects.get((kind, name))}
                 for kind, name in engine_objects.keys() | mocked_objects.keys()
                 if engine_objects.get((kind, name)) != mocked_objects.get((kind, name))}
    assert differing == {}, yaml.safe_dump(differing)


def test_the_export_applied_with_kubectl_holds_every_app_pod_until_its_migration(export):
    """The simulated nodes run no process, so the order itself is shown on a real
    PostgreSQL and PgBouncer by tests/components/database/test_rollout_gate_server.py;
    here the cluster shows that the objects as applied and stored carry those very steps,
    tied to the Job's revision, and that Pod Security admits every pod that has them."""
    stack, out = export("prod")
    manifests = documents(out)
    [namespace] = [m["metadata"]["name"] for m in manifests if m["kind"] == "Namespace"]
    environment = stack.environment
    try:
        # As a user would: the namespace first, then everything at once, in no order.
        kubectl(environment, "apply", "-f", *[str(f) for f in sorted(out.glob("*/*namespace*.yaml"))])
        kubectl(environment, "apply", "--recursive", "-f", str(out))
        # No engine waits for the Job here; `up` would.
        kubectl(environment, "-n", namespace, "wait", "--for=condition=Complete", "job", "--all", "--timeout=180s")
        # Applied in file order, a Deployment can come before its ServiceAccount; the
        # ReplicaSet retries until it exists. Any other refusal (Pod Security) fails.
        assert_all_ready(environment, namespace, tolerated=("error looking up service account",))

        [job] = objects(environment, "jobs", namespace)
        revision = {"name": REVISION_VARIABLE, "value": job["metadata"]["name"]}
        assert [c["name"] for c in steps(job)] == ["wait-for-database", "migrate", RECORD_CONTAINER]
        assert step(job, RECORD_CONTAINER)["command"] == ["sh", "-c", RECORD_SCRIPT]
        assert revision in step(job, RECORD_CONTAINER)["env"]

        deployments = [d for d in objects(environment, "deployments", namespace)
                       if d["metadata"]["labels"]["app.kubernetes.io/component"] != "pooler"]
        assert {d["metadata"]["name"] for d in deployments} == {"blockscore", "blockscore-celery", "blockscore-beat"}
        for deployment in deployments:
            gate = steps(deployment)[0]
            assert (gate["name"], gate["command"], gate["env"]) == (WAIT_CONTAINER, ["sh", "-c", WAIT_SCRIPT], [revision])
        # Every app pod running, as admitted under "restricted", has the gate first.
        pods = objects(environment, "pods", namespace)
        app_pods = [p for p in pods if p["metadata"]["labels"].get("app.kubernetes.io/component") in
                    {"web", "worker-celery", "worker-beat"}]
        assert len(app_pods) >= 3
        for pod in app_pods:
            assert pod["spec"]["initContainers"][0]["name"] == WAIT_CONTAINER, pod["metadata"]["name"]
    finally:
        # Not waited for: the database pod's 90 s of grace; a later run's volumes come from
        # tools/cluster/reclaim.sh.
        kubectl(environment, "delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
