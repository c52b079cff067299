"""`pulumi up` of dev and prod into the built-in cluster, and what must hold afterwards.

The simulated nodes run no containers: pods are scheduled, admitted by Pod Security,
bound to their volumes, go Running and Ready, and Job pods complete. What that cannot
show (probes, images, NetworkPolicy enforcement, DNS) is listed in the README.
"""

from __future__ import annotations

import base64
import json
import threading
from pathlib import Path

import pytest
import yaml

import cluster_api
from tests.e2e.conftest import assert_all_ready, kubectl, objects
from tests.servers import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dev(stacks):
    stack = stacks("e2e-dev", "dev")
    stack.up()
    return stack


@pytest.fixture(scope="module")
def prod(stacks):
    stack = stacks("e2e-prod", "prod")
    stack.up()
    return stack


def test_dev_is_deployed_and_every_workload_ready(dev):
    namespace = dev.output("namespace")
    assert_all_ready(dev.environment, namespace)
    kinds = {d["metadata"]["name"] for d in objects(dev.environment, "deployments", namespace)}
    assert kinds == {"blockscore"}


def test_a_second_up_with_refresh_changes_nothing(dev):
    # What the API server stores equals what the program sends: no drift to refresh away.
    dev.pulumi("preview", "--refresh", "--expect-no-changes")
    result = dev.up("--refresh")
    assert "unchanged" in result.stdout and "updated" not in result.stdout.split("Resources:")[-1]


def test_a_deleted_pod_comes_back(dev):
    namespace = dev.output("namespace")
    [pod] = [p["metadata"]["name"] for p in objects(dev.environment, "pods", namespace) if p["metadata"]["labels"].get("app.kubernetes.io/component") == "web"]
    dev.kubectl("-n", namespace, "delete", "pod", pod, "--wait=false")

    def replaced() -> bool:
        pods = [p for p in objects(dev.environment, "pods", namespace)
                if p["metadata"]["labels"].get("app.kubernetes.io/component") == "web" and p["metadata"]["name"] != pod]
        return any(c["type"] == "Ready" and c["status"] == "True" for p in pods for c in p["status"].get("conditions", []))

    wait_for(replaced, "a new ready web pod", seconds=120)


def test_an_image_change_rolls_the_web_deployment_without_losing_a_replica(dev):
    namespace = dev.output("namespace")
    # Available replicas, sampled through the rollout. (unavailableReplicas also counts the
    # surge pod that is still starting, so it is not what users lose.)
    seen: list[int] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            [web] = [d for d in objects(dev.environment, "deployments", namespace) if d["metadata"]["name"] == "blockscore"]
            seen.append(web["status"].get("availableReplicas", 0))
            stop.wait(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        dev.set("app.image", "ghcr.io/blockscore/backend:1.8.3")
        dev.up()
    finally:
        stop.set()
        watcher.join()
    [web] = [d for d in objects(dev.environment, "deployments", namespace) if d["metadata"]["name"] == "blockscore"]
    assert web["spec"]["template"]["spec"]["containers"][0]["image"] == "ghcr.io/blockscore/backend:1.8.3"
    assert len(seen) > 5
    assert min(seen) >= web["spec"]["replicas"] == 1


def test_a_generated_key_is_kept_by_every_up_and_replaced_only_by_a_rotation(dev):
    namespace = dev.output("namespace")

    def key() -> str:
        return dev.kubectl("-n", namespace, "get", "secret", "blockscore-secrets", "-o", "jsonpath={.data.SECRET_KEY}").stdout

    dev.set("secrets.generated[0]", "SECRET_KEY")
    dev.up()
    first = key()
    assert len(base64.b64decode(first)) == 64
    dev.up("--refresh")
    assert key() == first
    dev.set("secrets.rotate.SECRET_KEY", "1")
    dev.up()
    rotated = key()
    assert rotated != first and len(base64.b64decode(rotated)) == 64
    dev.up()
    assert key() == rotated


def test_prod_is_deployed_with_its_data_volumes_bound(prod):
    namespace = prod.output("namespace")
    assert_all_ready(prod.environment, namespace)
    claims = {c["metadata"]["name"] for c in objects(prod.environment, "persistentvolumeclaims", namespace)}
    assert claims == {"data-blockscore-db-0", "data-blockscore-redis-0", "data-blockscore-broker-0", "blockscore-uploads",
                      "blockscore-backups"}
    deployments = {d["metadata"]["name"]: d["status"].get("readyReplicas") for d in objects(prod.environment, "deployments", namespace)}
    assert deployments["blockscore"] >= 3 and deployments["blockscore-celery"] == 2 and deployments["blockscore-beat"] == 1


def test_a_backup_and_a_drill_run_now_are_admitted_bind_the_backup_volume_and_complete(prod):
    namespace = prod.output("namespace")
    cron_jobs = {c["metadata"]["name"]: c["spec"] for c in objects(prod.environment, "cronjobs", namespace)}
    assert (cron_jobs["blockscore-backup"]["schedule"], cron_jobs["blockscore-backup"]["timeZone"]) == ("0 2 * * *", "Etc/UTC")
    assert cron_jobs["blockscore-restore-drill"]["schedule"] == "0 4 * * 0"
    # What an operator does to take a backup at once: a Job from the CronJob's template.
    for cron_job in ("blockscore-backup", "blockscore-restore-drill"):
        kubectl(prod.environment, "-n", namespace, "create", "job", f"{cron_job}-now", f"--from=cronjob/{cron_job}")
        kubectl(prod.environment, "-n", namespace, "wait", "--for=condition=Complete", f"job/{cron_job}-now", "--timeout=120s")
    [claim] = [c for c in objects(prod.environment, "persistentvolumeclaims", namespace)
               if c["metadata"]["name"] == "blockscore-backups"]
    assert claim["status"]["phase"] == "Bound"


def test_the_program_can_ask_the_cluster_which_apis_it_serves(prod):
    """The question the program asks before it creates monitoring objects, over the built-in
    cluster's TLS and client certificate; prod's monitors and rules are there."""
    kubeconfig = yaml.safe_load(Path(prod.environment["KUBECONFIG"]).read_text())
    assert cluster_api.discover(kubeconfig, "monitoring.coreos.com/v1") is True
    assert cluster_api.discover(kubeconfig, "example.shipyard.dev/v1") is False
    namespace = prod.output("namespace")
    assert {m["metadata"]["name"] for m in objects(prod.environment, "servicemonitors", namespace)} == {
        "blockscore-web", "blockscore-database", "blockscore-cache", "blockscore-broker"}
    [rule] = objects(prod.environment, "prometheusrules", namespace)
    assert any(r["alert"] == "BlockscoreBackupTooOld" for g in rule["spec"]["groups"] for r in g["rules"])


def test_a_failing_migration_stops_the_rollout_and_the_old_pods_keep_serving(prod):
    namespace = prod.output("namespace")
    before = {d["metadata"]["name"]: d for d in objects(prod.environment, "deployments", namespace)}
    old_image = before["blockscore"]["spec"]["template"]["spec"]["containers"][0]["image"]
    # `false` exits 1, on a real node and on the simulated one (tools/cluster/stages/).
    prod.set("app.migration.command[0]", "false")
    prod.set("app.image", "ghcr.io/blockscore/backend:1.8.3@sha256:" + "b" * 64)
    result = prod.up(check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "blockscore-migrate" in output and "failed" in output.lower(), output[-6000:]
    after = {d["metadata"]["name"]: d for d in objects(prod.environment, "deployments", namespace)}
    for name in ("blockscore", "blockscore-celery", "blockscore-beat"):
        assert after[name]["spec"]["template"]["spec"]["containers"][0]["image"] == old_image, name
        assert after[name]["status"].get("readyReplicas") == before[name]["status"].get("readyReplicas"), name


def test_destroying_prod_is_refused_while_its_data_is_protected(prod):
    namespace = prod.output("namespace")
    result = prod.pulumi("destroy", "--yes", check=False)
    assert result.returncode != 0
    assert "cannot be deleted" in result.stdout + result.stderr
    assert {s["metadata"]["name"] for s in objects(prod.environment, "statefulsets", namespace)} == {
        "blockscore-db", "blockscore-redis", "blockscore-broker"
    }


def test_destroying_dev_leaves_nothing_behind(dev):
    namespace = dev.output("namespace")
    dev.pulumi("destroy", "--yes")
    assert json.loads(dev.pulumi("stack", "export").stdout)["deployment"].get("resources") in (None, [])
    wait_for(lambda: kubectl(dev.environment, "get", "namespace", namespace, check=False).returncode != 0,
             f"namespace {namespace} gone", seconds=180)
