"""components/monitoring: the ServiceMonitors, the PrometheusRule and the dashboard a stack gets."""

from __future__ import annotations

import json

import pytest

from tests.conftest import MINIMAL_APP, run_stack
from tests.test_stack_config import problems
from tools import render

MONITORING = {"enabled": True, "labels": {"release": "monitoring"}, "app": {"enabled": True}}


@pytest.fixture(scope="module")
def prod():
    return render.render("prod")


def test_nothing_unless_asked():
    recording = run_stack(database={"enabled": True})
    assert recording.find("ServiceMonitor") == [] and recording.find("PrometheusRule") == []


def test_a_service_monitor_per_exporter_and_for_the_app(prod):
    monitors = {r.object_name: r.inputs for r in prod.find("ServiceMonitor")}
    assert set(monitors) == {"blockscore-web", "blockscore-database", "blockscore-cache", "blockscore-broker"}
    web = monitors["blockscore-web"]
    assert web["metadata"]["labels"]["release"] == "monitoring"  # what the cluster's Prometheus selects
    assert web["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s", "scheme": "http"}]
    assert web["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "web"
    database = monitors["blockscore-database"]["spec"]
    assert database["endpoints"][0]["port"] == "metrics"
    # The port the monitor names is on the Service it selects.
    [service] = [s for s in prod.find("Service") if s.object_name == "blockscore-db"]
    assert {"name": "metrics", "port": 9187, "targetPort": "metrics"} in service.inputs["spec"]["ports"]
    assert database["selector"]["matchLabels"].items() <= service.inputs["metadata"]["labels"].items()


def test_prometheus_may_reach_what_it_scrapes(prod):
    ingress = prod.one("NetworkPolicy", "blockscore-web-ingress")["spec"]["ingress"]
    sources = {(rule["from"][0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], rule["ports"][0]["port"])
               for rule in ingress}
    assert sources == {("envoy-gateway-system", 5000), ("monitoring", 5000)}
    # Without the app's own metrics, only the proxy reaches the web pods.
    plain = run_stack(monitoring={**MONITORING, "app": {"enabled": False}})
    assert len(plain.one("NetworkPolicy", "shop-web-ingress")["spec"]["ingress"]) == 1


def test_the_rules_watch_what_the_stack_runs():
    recording = run_stack(app={**MINIMAL_APP, "cronJobs": [{"name": "nightly", "schedule": "@daily", "command": ["true"]}]},
                          monitoring={"enabled": True})
    groups = {g["name"]: [r["alert"] for r in g["rules"]] for g in recording.one("PrometheusRule")["spec"]["groups"]}
    # No data stores, no app metrics, no autoscaler, no edge: no alerts about them.
    assert groups == {"shop-workloads": ["ShopPodRestarting"],
                      "shop-scheduled-jobs": ["ShopNightlyFailed", "ShopNightlyTooOld", "ShopNightlyNeverSucceeded"]}
    [rule] = [r for g in recording.one("PrometheusRule")["spec"]["groups"] for r in g["rules"] if r["alert"] == "ShopNightlyTooOld"]
    # A day between runs, ten minutes to start, the hour a run may take (retries included).
    assert rule["expr"].endswith(f"> {86400 + 600 + 3600}")


def test_can_configure_thresholds():
    recording = run_stack(app={**MINIMAL_APP, "replicas": {"min": 2, "max": 4}}, monitoring={
        **MONITORING, "thresholds": {"errorRatio": 0.01, "p95LatencySeconds": 0.3, "hpaAtMaxMinutes": 30}})
    rules = {r["alert"]: r for g in recording.one("PrometheusRule")["spec"]["groups"] for r in g["rules"]}
    assert rules["ShopHighErrorRate"]["expr"].endswith("> 0.01")
    assert rules["ShopHighLatency"]["expr"].endswith("> 0.3")
    assert rules["ShopAutoscalerAtMax"]["for"] == "30m"


def test_fastapi_metric_names():
    recording = run_stack(monitoring={**MONITORING, "app": {"enabled": True, "library": "prometheus-fastapi-instrumentator"}})
    exprs = " ".join(r["expr"] for g in recording.one("PrometheusRule")["spec"]["groups"] for r in g["rules"])
    assert "http_requests_total{" in exprs and "http_request_duration_seconds_bucket{" in exprs


def test_the_dashboard_is_a_configmap_for_grafanas_sidecar(prod):
    config_map = prod.one("ConfigMap", "blockscore-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    [text] = config_map["data"].values()
    board = json.loads(text)
    panels = board["panels"]
    rows = [p["title"] for p in panels if p["type"] == "row"]
    assert rows == ["Web", "Database", "Redis: cache", "Redis: broker", "Backups and scheduled jobs"]
    assert len({p["id"] for p in panels}) == len(panels)
    for panel in (p for p in panels if p["type"] != "row"):
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        refs = [t["refId"] for t in panel["targets"]]
        assert refs == sorted(set(refs)) and all('namespace="blockscore-prod"' in t["expr"] for t in panel["targets"])
    assert board["templating"]["list"][0]["type"] == "datasource"


def test_can_leave_the_dashboard_out():
    assert run_stack(monitoring={**MONITORING, "dashboard": False}).find("ConfigMap", "shop-dashboard") == []


@pytest.mark.parametrize(("monitoring", "message"), [
    ({"thresholds": {"errorRatio": 5}}, "monitoring.thresholds.errorRatio: Input should be less than 1"),
    ({"app": {"enabled": True, "library": "django"}}, "monitoring.app.library: Input should be"),
    ({"app": {"requestsMetric": "http requests"}}, "monitoring.app.requestsMetric: String should match"),
    ({"intervalSeconds": 1}, "monitoring.intervalSeconds: Input should be greater than or equal to 5"),
])
def test_bad_monitoring_config_names_the_key(monitoring, message):
    found = problems(monitoring={"enabled": True, **monitoring})
    assert any(message in p for p in found), found


def test_the_pooler_is_scraped_when_its_exporter_runs():
    recording = run_stack(database={"enabled": True, "pgbouncer": {"enabled": True, "exporter": {"enabled": True}}},
                          monitoring={"enabled": True})
    monitors = {r.object_name: r.inputs["spec"] for r in recording.find("ServiceMonitor")}
    assert set(monitors) == {"shop-database", "shop-pooler"}
    assert monitors["shop-pooler"]["endpoints"][0]["port"] == "metrics"
    assert monitors["shop-pooler"]["selector"]["matchLabels"]["app.kubernetes.io/component"] == "pooler"
    without = run_stack(database={"enabled": True, "pgbouncer": {"enabled": True}}, monitoring={"enabled": True})
    assert {r.object_name for r in without.find("ServiceMonitor")} == {"shop-database"}
