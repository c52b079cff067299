"""The cluster add-ons, installed by the stack itself into an empty cluster.

A second control plane, started with none of the add-ons' CRDs (SHIPYARD_CLUSTER_EMPTY), takes
prod with `addons.certManager` and `addons.edgeController` (Envoy Gateway) on, both from local
copies of their pinned charts (tools/addons/charts.sh: no chart repository is reachable here).

The simulated nodes run no containers, so cert-manager's webhook never answers: the API server
refuses every cert-manager object while the webhook is registered and down, as a real cluster
would. The first `up` shows the order (those refusals come from the webhook, so the CRDs were
there and the release was ready before them) and that nothing else failed. The tests then do
what a running webhook would do for the rest of the run, removing its registration, and check
that the same `up` completes and changes nothing afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import Stack, assert_all_ready, kubectl, objects
from tools import engine_run

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
# Beside the main test cluster's ports (tools/cluster/up.sh), never on them.
PORTS = {"SHIPYARD_API_PORT": "27443", "SHIPYARD_ETCD_PORT": "27379", "SHIPYARD_ETCD_PEER_PORT": "27380",
         "SHIPYARD_KCM_PORT": "27257", "SHIPYARD_SCHEDULER_PORT": "27259", "SHIPYARD_KWOK_PORT": "27247"}
WEBHOOK_REFUSAL = 'failed calling webhook "webhook.cert-manager.io"'


@pytest.fixture(scope="module")
def empty_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    cluster = {**os.environ, **PORTS, "SHIPYARD_CLUSTER_EMPTY": "1",
               "SHIPYARD_CLUSTER_STATE": str(tmp_path_factory.mktemp("empty-cluster") / "cluster")}
    up = subprocess.run(["bash", str(ROOT / "tools/cluster/up.sh")], env=cluster, capture_output=True, text=True)
    try:
        assert up.returncode == 0, up.stderr
        yield up.stdout.strip()
    finally:
        subprocess.run(["bash", str(ROOT / "tools/cluster/down.sh")], env=cluster, capture_output=True, text=True)


@pytest.fixture(scope="module")
def local_charts() -> dict[str, str]:
    staged = subprocess.run(["bash", str(ROOT / "tools/addons/charts.sh")], capture_output=True, text=True)
    assert staged.returncode == 0, f"run `make charts` first: {staged.stderr}"
    return dict(line.split() for line in staged.stdout.splitlines())


@pytest.fixture(scope="module")
def stack(project: Path, empty_cluster: str, local_charts: dict[str, str],
          tmp_path_factory: pytest.TempPathFactory) -> Stack:
    environment = engine_run.engine_environment(tmp_path_factory.mktemp("empty-cluster-state"), empty_cluster)
    made = Stack("addons", "prod", project, environment)
    for key, addon in (("certManager", "cert-manager"), ("edgeController", "envoy-gateway")):
        made.set(f"addons.{key}.enabled", "true")
        made.set(f"addons.{key}.chart", local_charts[addon])
    return made


@pytest.fixture(scope="module")
def preview(stack: Stack) -> dict:
    # Before anything exists: the custom resources' kinds are unknown to the cluster yet.
    assert kubectl(stack.environment, "get", "crd", "-o", "name").stdout == ""
    result = stack.pulumi("preview", "--policy-pack", "policy", "--json")
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def first_up(stack: Stack, preview) -> subprocess.CompletedProcess:
    return stack.up(check=False)


def planned(preview: dict) -> dict[str, str]:
    return {step["urn"].rsplit("::", 1)[-1]: step["op"] for step in preview["steps"]}


def crds(environment) -> set[str]:
    return {c["metadata"]["name"] for c in json.loads(kubectl(environment, "get", "crd", "-o", "json").stdout)["items"]}


def test_preview_of_an_empty_cluster_plans_the_add_ons_and_everything_that_needs_them(preview):
    steps = planned(preview)
    for name in ("cluster-addons-cert-manager", "cluster-addons-envoy-gateway", "blockscore-edge-issuer",
                 "blockscore-edge-gateway", "blockscore-edge-traffic-blockscore-api", "blockscore-web"):
        assert steps.get(name) == "create", name
    # No Prometheus operator and addons.prometheusStack off: no monitoring objects, and a warning.
    assert not [step["urn"] for step in preview["steps"] if "monitoring.coreos.com" in step["urn"]]
    warnings = [d["message"] for d in preview.get("diagnostics", []) if d.get("severity") == "warning"]
    assert any("does not serve monitoring.coreos.com/v1" in w for w in warnings), warnings


def test_the_releases_install_their_crds_and_are_ready_before_anything_uses_them(stack, first_up):
    found = crds(stack.environment)
    assert {"clusterissuers.cert-manager.io", "certificates.cert-manager.io", "gateways.gateway.networking.k8s.io",
            "httproutes.gateway.networking.k8s.io", "backendtrafficpolicies.gateway.envoyproxy.io"} <= found
    for namespace in ("cert-manager", "envoy-gateway-system"):
        assert_all_ready(stack.environment, namespace)
    assert {d["metadata"]["name"] for d in objects(stack.environment, "deployments", "cert-manager")} == {
        "cert-manager", "cert-manager-cainjector", "cert-manager-webhook"}


def test_only_the_webhook_that_runs_no_container_here_stops_the_first_up(stack, first_up):
    assert first_up.returncode != 0
    errors = [line for line in first_up.stdout.splitlines() if "error:" in line and "was not successfully created" in line]
    assert errors and all(WEBHOOK_REFUSAL in line for line in errors), errors
    refused = {line.split('"', 2)[1].rsplit("::", 1)[-1] for line in errors}
    assert refused <= {"blockscore-edge-issuer", "blockscore-edge-certificate-api-blockscore-com"}, refused
    # The kinds were served when the objects came (a missing CRD reads "no matches for kind").
    assert "no matches for kind" not in first_up.stdout + first_up.stderr


def test_with_the_webhook_out_of_the_way_the_same_up_completes_and_then_changes_nothing(stack, first_up):
    # What a running webhook does: admit them. Here, without it, nothing is there to ask.
    for kind in ("validatingwebhookconfiguration", "mutatingwebhookconfiguration"):
        stack.kubectl("delete", kind, "cert-manager-webhook")
    stack.up()
    namespace = stack.output("namespace")
    assert_all_ready(stack.environment, namespace)
    assert {r["metadata"]["name"] for r in objects(stack.environment, "httproutes", namespace)} == {
        "blockscore-api", "blockscore-api-auth", "blockscore-root", "blockscore-redirect"}
    assert len(objects(stack.environment, "backendtrafficpolicies", namespace)) == 3
    issuers = json.loads(stack.kubectl("get", "clusterissuers", "-o", "json").stdout)["items"]
    assert [i["spec"]["acme"]["email"] for i in issuers] == ["ops@blockscore.com"]
    assert [c["spec"]["dnsNames"] for c in objects(stack.environment, "certificates", namespace)] == [["api.blockscore.com"]]
    assert len(objects(stack.environment, "gateways", namespace)) == 1
    stack.pulumi("preview", "--expect-no-changes")
