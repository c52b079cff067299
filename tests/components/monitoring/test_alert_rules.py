"""The prod stack's alerting rules, as rendered into its PrometheusRule, checked by promtool
and unit-tested with it (`promtool test rules`): each alert fires on the series that should
set it off, with the labels and words a person on call reads, and stays quiet otherwise.

promtool is Prometheus' own, built from its Go module by `make promtool` (make unit does).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_stack
from tools import render
from tools.engine_run import tool_dir

NS = "blockscore-prod"
APP = {"severity": "critical", "app": "blockscore"}
WARN = {"severity": "warning", "app": "blockscore"}
# Nightly at 02:00 UTC, plus 10 minutes to start and the hour a run may take, retries included.
BACKUP_STALE = 86400 + 600 + 3600


@pytest.fixture(scope="module")
def promtool() -> Path:
    binary = tool_dir("tools/monitoring/versions.sh", "PROMTOOL_BIN")
    if not binary.exists():
        pytest.fail(f"promtool is not built ({binary}); `make promtool` builds it (make unit does it first)",
                    pytrace=False)
    return binary


@pytest.fixture(scope="module")
def groups() -> list[dict]:
    return render.render("prod").one("PrometheusRule", "blockscore-alerts")["spec"]["groups"]


@pytest.fixture(scope="module")
def rules_file(groups, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    return path


def rule(groups: list[dict], name: str) -> dict:
    [found] = [r for g in groups for r in g["rules"] if r["alert"] == name]
    return found


def annotations(groups, name: str, *rendered: str) -> dict[str, str]:
    """The alert's annotations with each `{{ ... }}` replaced, in order, by what promtool renders."""
    values = iter(rendered)
    return {key: re.sub(r"\{\{[^}]*\}\}", lambda _: next(values), text)
            for key, text in rule(groups, name)["annotations"].items()}


def test_promtool_accepts_the_rules(promtool, rules_file, groups):
    checked = subprocess.run([str(promtool), "check", "rules", str(rules_file)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    names = {r["alert"] for g in groups for r in g["rules"]}
    assert names == {
        "BlockscoreHighErrorRate", "BlockscoreHighLatency", "BlockscorePodRestarting", "BlockscoreAutoscalerAtMax",
        "BlockscoreDatabaseDown", "BlockscoreDatabaseConnectionsNearLimit", "BlockscoreCacheDown",
        "BlockscoreCacheMemoryNearLimit", "BlockscoreBrokerDown", "BlockscoreBrokerMemoryNearLimit",
        "BlockscoreBackupFailed", "BlockscoreBackupTooOld", "BlockscoreBackupNeverSucceeded",
        "BlockscoreRestoreDrillFailed", "BlockscoreRestoreDrillTooOld", "BlockscoreRestoreDrillNeverSucceeded",
        "BlockscoreCertificateExpiring",
    }
    for r in (r for g in groups for r in g["rules"]):
        assert set(r["annotations"]) == {"summary", "description", "runbook"} and all(r["annotations"].values())


def series(metric: str, values: str, **labels: str) -> dict:
    selector = ", ".join(f'{k}="{v}"' for k, v in {"namespace": NS, **labels}.items())
    return {"series": f"{metric}{{{selector}}}", "values": values}


def case(alert: str, at: str, input_series: list[dict], expected: list[dict]) -> dict:
    return {"interval": "1m", "input_series": input_series,
            "alert_rule_test": [{"eval_time": at, "alertname": alert, "exp_alerts": expected}]}


def run_cases(promtool: Path, rules_file: Path, cases: list[dict]) -> None:
    tests = rules_file.with_name("tests.yaml")
    tests.write_text(yaml.safe_dump({"rule_files": [rules_file.name], "evaluation_interval": "1m", "tests": cases}))
    result = subprocess.run([str(promtool), "test", "rules", str(tests)], capture_output=True, text=True,
                            cwd=rules_file.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_request_alerts(promtool, rules_file, groups):
    web = {"job": "blockscore"}
    # 10 requests a second, 1 of them 5xx (10 %, over the 5 % threshold), for 20 minutes.
    failing = [series("flask_http_request_total", "0+540x20", status="200", **web),
               series("flask_http_request_total", "0+60x20", status="500", **web)]
    healthy = [series("flask_http_request_total", "0+594x20", status="200", **web),
               series("flask_http_request_total", "0+6x20", status="500", **web)]
    # Another stack's errors in the same Prometheus are not this one's.
    elsewhere = [series("flask_http_request_total", "0+600x20", status="500", job="blockscore").copy()]
    elsewhere[0]["series"] = elsewhere[0]["series"].replace(NS, "blockscore-staging")

    def latency(slow_share: float) -> list[dict]:
        # Cumulative buckets: the share above 2 s is `slow_share`.
        per_minute = 600
        fast = int(per_minute * (1 - slow_share))
        return [series("flask_http_request_duration_seconds_bucket", f"0+{fast}x20", le="0.5", **web),
                series("flask_http_request_duration_seconds_bucket", f"0+{fast}x20", le="2", **web),
                series("flask_http_request_duration_seconds_bucket", f"0+{per_minute}x20", le="+Inf", **web)]

    run_cases(promtool, rules_file, [
        case("BlockscoreHighErrorRate", "20m", failing,
             [{"exp_labels": APP, "exp_annotations": annotations(groups, "BlockscoreHighErrorRate", "10%")}]),
        case("BlockscoreHighErrorRate", "20m", healthy + elsewhere, []),
        case("BlockscoreHighErrorRate", "8m", failing, []),  # not yet held for 10 minutes
        case("BlockscoreHighLatency", "20m", latency(0.1), [{
            "exp_labels": WARN, "exp_annotations": annotations(groups, "BlockscoreHighLatency", "2s")}]),
        case("BlockscoreHighLatency", "20m", latency(0.01), []),
    ])


def test_workload_alerts(promtool, rules_file, groups):
    pod = {"pod": "blockscore-celery-7d9c-x2", "container": "celery"}
    hpa = {"horizontalpodautoscaler": "blockscore"}
    run_cases(promtool, rules_file, [
        case("BlockscorePodRestarting", "70m", [series("kube_pod_container_status_restarts_total", "0+1x70", **pod)],
             [{"exp_labels": {**WARN, "namespace": NS, **pod},
               "exp_annotations": annotations(groups, "BlockscorePodRestarting", pod["pod"], pod["container"], "60")}]),
        case("BlockscorePodRestarting", "70m", [series("kube_pod_container_status_restarts_total", "0+0x70", **pod)], []),
        case("BlockscoreAutoscalerAtMax", "30m",
             [series("kube_horizontalpodautoscaler_status_current_replicas", "10x30", **hpa),
              series("kube_horizontalpodautoscaler_spec_max_replicas", "10x30", **hpa)],
             [{"exp_labels": {**WARN, "namespace": NS, **hpa},
               "exp_annotations": annotations(groups, "BlockscoreAutoscalerAtMax")}]),
        case("BlockscoreAutoscalerAtMax", "30m",
             [series("kube_horizontalpodautoscaler_status_current_replicas", "6x30", **hpa),
              series("kube_horizontalpodautoscaler_spec_max_replicas", "10x30", **hpa)], []),
    ])


def test_data_store_alerts(promtool, rules_file, groups):
    db = {"job": "blockscore-db", "instance": "10.0.0.5:9187"}
    cache = {"job": "blockscore-redis", "instance": "10.0.0.6:9121"}
    broker = {"job": "blockscore-broker", "instance": "10.0.0.7:9121"}
    run_cases(promtool, rules_file, [
        case("BlockscoreDatabaseDown", "5m", [series("pg_up", "0x5", **db)],
             [{"exp_labels": {**APP, "namespace": NS, **db}, "exp_annotations": annotations(groups, "BlockscoreDatabaseDown")}]),
        # No series at all: the exporter is not scraped, which hides an outage just as well.
        case("BlockscoreDatabaseDown", "5m", [series("pg_up", "1x5", job="another-db")],
             [{"exp_labels": {**APP, "namespace": NS, "job": "blockscore-db"},
               "exp_annotations": annotations(groups, "BlockscoreDatabaseDown")}]),
        case("BlockscoreDatabaseDown", "5m", [series("pg_up", "1x5", **db)], []),
        case("BlockscoreDatabaseConnectionsNearLimit", "15m",
             [series("pg_stat_activity_count", "120x15", state="active", **db),
              series("pg_stat_activity_count", "50x15", state="idle", **db),
              series("pg_settings_max_connections", "200x15", **db)],
             [{"exp_labels": WARN, "exp_annotations": annotations(groups, "BlockscoreDatabaseConnectionsNearLimit", "85%")}]),
        case("BlockscoreDatabaseConnectionsNearLimit", "15m",
             [series("pg_stat_activity_count", "100x15", state="active", **db),
              series("pg_settings_max_connections", "200x15", **db)], []),
        case("BlockscoreCacheMemoryNearLimit", "15m",
             [series("redis_memory_used_bytes", "1950000000x15", **cache), series("redis_memory_max_bytes", "2000000000x15", **cache)],
             [{"exp_labels": {**WARN, "namespace": NS, **cache},
               "exp_annotations": annotations(groups, "BlockscoreCacheMemoryNearLimit", "97.5%")}]),
        # The broker never evicts and has no maxmemory (0): no ratio, no alert.
        case("BlockscoreBrokerMemoryNearLimit", "15m",
             [series("redis_memory_used_bytes", "900000000x15", **broker), series("redis_memory_max_bytes", "0x15", **broker)], []),
        case("BlockscoreBrokerDown", "5m", [series("redis_up", "0x5", **broker), series("redis_up", "1x5", **cache)],
             [{"exp_labels": {**APP, "namespace": NS, **broker}, "exp_annotations": annotations(groups, "BlockscoreBrokerDown")}]),
        case("BlockscoreCacheDown", "5m", [series("redis_up", "0x5", **broker), series("redis_up", "1x5", **cache)], []),
    ])


def test_backup_alerts(promtool, rules_file, groups):
    day = 86400
    failed_run = {"job_name": "blockscore-backup-29412345"}
    run_cases(promtool, rules_file, [
        # Tonight's run failed: alert at once.
        case("BlockscoreBackupFailed", "10m",
             [series("kube_job_status_failed", "1x10", **failed_run), series("kube_job_created", "0x10", **failed_run)],
             [{"exp_labels": {**APP, "namespace": NS, **failed_run},
               "exp_annotations": annotations(groups, "BlockscoreBackupFailed", failed_run["job_name"])}]),
        # A failure from weeks ago still listed in the Job history is not news.
        case("BlockscoreBackupFailed", "10m",
             [series("kube_job_status_failed", "1x10", **failed_run),
              series("kube_job_created", f"{-30 * day}x10", **failed_run)], []),
        # A manual run (`kubectl create job --from=cronjob/...`) and other CronJobs are not the backup's.
        case("BlockscoreBackupFailed", "10m",
             [series("kube_job_status_failed", "1x10", job_name="blockscore-backup-now"),
              series("kube_job_created", "0x10", job_name="blockscore-backup-now")], []),
        # The last success was 30 hours ago: past the 25 h 10 min a nightly run allows.
        case("BlockscoreBackupTooOld", "1m",
             [series("kube_cronjob_status_last_successful_time", f"{-30 * 3600}x1", cronjob="blockscore-backup")],
             [{"exp_labels": {**APP, "namespace": NS, "cronjob": "blockscore-backup"},
               "exp_annotations": annotations(groups, "BlockscoreBackupTooOld", "1d 6h 1m 0s")}]),
        case("BlockscoreBackupTooOld", "1m",
             [series("kube_cronjob_status_last_successful_time", f"{-20 * 3600}x1", cronjob="blockscore-backup")], []),
        case("BlockscoreBackupNeverSucceeded", f"{BACKUP_STALE // 60 + 2}m",
             [series("kube_cronjob_status_last_successful_time", "0x1", cronjob="blockscore-restore-drill")],
             [{"exp_labels": {**APP, "namespace": NS, "cronjob": "blockscore-backup"},
               "exp_annotations": annotations(groups, "BlockscoreBackupNeverSucceeded")}]),
        case("BlockscoreRestoreDrillFailed", "10m",
             [series("kube_job_status_failed", "1x10", job_name="blockscore-restore-drill-29412399"),
              series("kube_job_created", "0x10", job_name="blockscore-restore-drill-29412399")],
             [{"exp_labels": {**APP, "namespace": NS, "job_name": "blockscore-restore-drill-29412399"},
               "exp_annotations": annotations(groups, "BlockscoreRestoreDrillFailed", "blockscore-restore-drill-29412399")}]),
    ])


def test_certificate_alert(promtool, rules_file, groups):
    cert = {"name": "api-blockscore-com-tls", "exported_namespace": NS}
    run_cases(promtool, rules_file, [
        case("BlockscoreCertificateExpiring", "2h", [series("certmanager_certificate_expiration_timestamp_seconds",
                                                            f"{10 * 86400}x120", **cert)],
             [{"exp_labels": {**WARN, "namespace": NS, **cert},
               "exp_annotations": annotations(groups, "BlockscoreCertificateExpiring", cert["name"], "9d 22h 0m 0s")}]),
        case("BlockscoreCertificateExpiring", "2h", [series("certmanager_certificate_expiration_timestamp_seconds",
                                                            f"{60 * 86400}x120", **cert)], []),
    ])


def test_pooler_alert(promtool, tmp_path):
    recording = run_stack(database={"enabled": True, "pgbouncer": {"enabled": True, "exporter": {"enabled": True}}},
                          monitoring={"enabled": True})
    groups = recording.one("PrometheusRule")["spec"]["groups"]
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    pooler = {"job": "shop-db-pooler", "database": "app", "user": "app"}

    def waiting(values: str) -> list[dict]:
        return [{"series": "pgbouncer_pools_client_waiting_connections{"
                           + ", ".join(f'{k}="{v}"' for k, v in {"namespace": "shop-test", **pooler}.items()) + "}",
                 "values": values}]

    expected = {"severity": "warning", "app": "shop"}
    run_cases(promtool, rules_file, [
        case("ShopPoolerClientsWaiting", "10m", waiting("4x10"),
             [{"exp_labels": expected, "exp_annotations": annotations(groups, "ShopPoolerClientsWaiting", "4")}]),
        # A moment of waiting under a burst is what a pool is for.
        case("ShopPoolerClientsWaiting", "10m", waiting("0 0 0 5 0 0 0 0 0 0 0"), []),
    ])


def test_rabbitmq_alerts(promtool, tmp_path):
    recording = run_stack(rabbitmq={"enabled": True}, monitoring={"enabled": True})
    groups = recording.one("PrometheusRule")["spec"]["groups"]
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))
    labels = {"namespace": "shop-test", "job": "shop-rabbitmq", "instance": "10.0.0.7:15692"}

    def metric(name: str, values: str, **extra: str) -> dict:
        return {"series": name + "{" + ", ".join(f'{k}="{v}"' for k, v in {**labels, **extra}.items()) + "}",
                "values": values}

    critical = {"severity": "critical", "app": "shop"}
    down = annotations(groups, "ShopRabbitMQDown")
    alarm = annotations(groups, "ShopRabbitMQBlocksPublishers")
    run_cases(promtool, rules_file, [
        case("ShopRabbitMQDown", "5m", [metric("up", "1 1 0 0 0 0")],
             [{"exp_labels": {**critical, **labels}, "exp_annotations": down}]),
        # Never scraped at all (no monitor picked it up) counts as down too.
        case("ShopRabbitMQDown", "5m", [metric("up", "1x5", job="another")],
             [{"exp_labels": {**critical, "job": "shop-rabbitmq", "namespace": "shop-test"}, "exp_annotations": down}]),
        case("ShopRabbitMQDown", "5m", [metric("up", "1x5")], []),
        case("ShopRabbitMQBlocksPublishers", "10m", [metric("rabbitmq_alarms_free_disk_space_watermark", "1x10"),
                                                     metric("rabbitmq_alarms_memory_used_watermark", "0x10")],
             [{"exp_labels": critical, "exp_annotations": alarm}]),
        case("ShopRabbitMQBlocksPublishers", "10m", [metric("rabbitmq_alarms_memory_used_watermark", "0 0 1 1 0 0 0 0 0 0 0"),
                                                     metric("rabbitmq_alarms_free_disk_space_watermark", "0x10")], []),
    ])


def test_replica_alerts(promtool, tmp_path):
    recording = run_stack(database={"enabled": True, "replica": {"enabled": True, "replicas": 2}},
                          monitoring={"enabled": True})
    groups = recording.one("PrometheusRule")["spec"]["groups"]
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump({"groups": groups}, sort_keys=False))

    def metric(name: str, values: str, pod: str, job: str = "shop-db-replica") -> dict:
        return {"series": f'{name}{{namespace="shop-test", job="{job}", pod="{pod}"}}', "values": values}

    warning = {"severity": "warning", "app": "shop"}
    down = annotations(groups, "ShopDatabaseReplicaDown")
    run_cases(promtool, rules_file, [
        # One standby of two down is enough to say so.
        case("ShopDatabaseReplicaDown", "10m", [metric("pg_up", "1x10", "r-0"), metric("pg_up", "0x10", "r-1")],
             [{"exp_labels": warning, "exp_annotations": down}]),
        # None scraped at all (the monitor picks none up) is down too.
        case("ShopDatabaseReplicaDown", "10m", [metric("pg_up", "1x10", "r-0", job="shop-db")],
             [{"exp_labels": {**warning, "job": "shop-db-replica", "namespace": "shop-test"}, "exp_annotations": down}]),
        case("ShopDatabaseReplicaDown", "10m", [metric("pg_up", "1x10", "r-0"), metric("pg_up", "1x10", "r-1")], []),
        case("ShopDatabaseReplicaLagging", "10m",
             [metric("pg_replication_lag_seconds", "0x10", "r-0"), metric("pg_replication_lag_seconds", "90x10", "r-1")],
             [{"exp_labels": warning, "exp_annotations": annotations(groups, "ShopDatabaseReplicaLagging", "1m 30s")}]),
        # A burst of lag that catches up within minutes is replay doing its work.
        case("ShopDatabaseReplicaLagging", "10m", [metric("pg_replication_lag_seconds", "0 0 0 300 0 0 0 0 0 0 0", "r-0")], []),
    ])


def test_every_scraped_store_has_a_monitor_including_the_replicas():
    recording = run_stack(database={"enabled": True, "replica": {"enabled": True}}, monitoring={"enabled": True})
    selected = {m.inputs["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/component") for m in recording.find("ServiceMonitor")}
    assert {"database", "database-replica"} <= selected
