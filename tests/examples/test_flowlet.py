"""Flowlet (seed guide 001): every ask of its production guide, against Pulumi.flowlet.yaml.

The guide names a message queue without settings; the stack runs RabbitMQ (components/rabbitmq,
proven against a real rabbitmq-server in tests/components/rabbitmq). What the cluster makes
unnecessary, and what is left to the app, is in examples/flowlet/README.md.
"""

from __future__ import annotations

import re

STACK = "flowlet"
APP = "flowlet"
HOSTS = ["flowlet.example.com", "api.flowlet.example.com"]



def alert_expr(stack, name: str) -> str:
    [rules] = stack.all("PrometheusRule")
    [found] = [r["expr"] for g in rules["spec"]["groups"] for r in g["rules"] if r["alert"] == name]
    return found


def test_required_services(stack):
    servers = {s["metadata"]["name"] for s in stack.all("StatefulSet")}
    assert servers == {f"{APP}-db", f"{APP}-redis", f"{APP}-rabbitmq"}, "Required Services: PostgreSQL, Redis, a queue"
    urls = stack.secret_keys(f"{APP}-db") | stack.secret_keys(f"{APP}-redis") | stack.secret_keys(f"{APP}-rabbitmq")
    assert {"DATABASE_URL", "REDIS_URL", "RABBITMQ_URL"} <= urls, "Required Services: the app's URLs"
    sources = {s["secretRef"]["name"] for s in stack.container("Deployment", APP)["envFrom"] if "secretRef" in s}
    assert {f"{APP}-db", f"{APP}-redis", f"{APP}-rabbitmq", f"{APP}-secrets"} <= sources, "Required Services"


def test_database_setup(stack):
    assert stack.env("StatefulSet", f"{APP}-db", "postgres")["POSTGRES_DB"] == "flowlet_production", "2. Database Setup"
    url = stack.one("Secret", f"{APP}-db")["stringData"]["DATABASE_URL"]
    assert url.startswith("postgresql://flowlet_user:") and url.endswith("/flowlet_production"), "2. Database Setup: user"
    conf = stack.postgresql_conf(f"{APP}-db-config")
    assert {k: conf[k] for k in ("shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem",
                                 "max_connections")} == {
        "shared_buffers": "256MB", "effective_cache_size": "1GB", "work_mem": "4MB", "maintenance_work_mem": "64MB",
        "max_connections": "200"}, "2. Database Setup: postgresql.conf"


def test_redis_setup(stack):
    conf = stack.one("ConfigMap", f"{APP}-redis-config")["data"]["redis.conf"].splitlines()
    assert {"maxmemory 512mb", "maxmemory-policy allkeys-lru", "save 900 1", "save 300 10", "save 60 10000"} <= set(conf), \
        "3. Redis Setup"


def test_the_message_queue(stack):
    url = stack.one("Secret", f"{APP}-rabbitmq")["stringData"]["RABBITMQ_URL"]
    assert re.fullmatch(r"amqp://flowlet:[^@]+@flowlet-rabbitmq\.flowlet\.svc\.cluster\.local:5672/flowlet", url), \
        "Required Services: RabbitMQ 3.9+"
    claim = stack.one("StatefulSet", f"{APP}-rabbitmq")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi", "Required Services: a durable queue"


def test_application_deployment_runs_the_migrations_first(stack):
    [job] = stack.all("Job")
    assert stack.container("Job", job["metadata"]["name"], "migrate")["command"] == \
        ["flask", "--app", "production_app", "db", "upgrade"], "4. Application Deployment: db upgrade"


def test_ssl_and_nginx_configuration(stack):
    names = sorted(n for c in stack.all("Certificate") for n in c["spec"]["dnsNames"])
    assert names == sorted(HOSTS), "5. SSL/TLS Configuration: both hosts"
    [redirect] = [f for r in stack.one("HTTPRoute", f"{APP}-redirect")["spec"]["rules"] for f in r["filters"]]
    assert redirect["requestRedirect"]["scheme"] == "https", "6. Nginx Configuration: HTTP to HTTPS"
    headers = stack.response_headers(f"{APP}-root")
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload", "6. Nginx: HSTS"
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY", "6. Nginx: headers"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", "6. Nginx: Referrer-Policy"
    assert headers["Content-Security-Policy"].startswith("default-src 'self'; script-src 'self';"), "6. Nginx: CSP"
    limits = {m["metadata"]["name"]: m["spec"]["rateLimit"] for m in stack.all("Middleware") if "rateLimit" in m["spec"]}
    assert limits[f"{APP}-limit-root"] == {"average": 10, "burst": 20, "period": "1s"}, "6. Nginx: 10 r/s, burst 20"
    assert limits[f"{APP}-limit-api-v1-auth"] == {"average": 5, "burst": 10, "period": "1s"}, "6. Nginx: auth 5 r/s, burst 10"
    backend = stack.one("Service", APP)["spec"]["ports"][0]
    assert stack.container("Deployment", APP)["ports"][0]["containerPort"] == 5001 and backend["targetPort"] == "http", \
        "6. Nginx Configuration: the app on 5001"


def test_process_management(stack):
    command = stack.container("Deployment", APP)["command"]
    for flag in ("--bind=0.0.0.0:5001", "--workers=4", "--worker-class=gevent", "--worker-connections=1000",
                 "--timeout=30", "--keep-alive=2", "--max-requests=1000", "--max-requests-jitter=100", "--preload"):
        assert flag in command, f"7. Process Management with Supervisor: {flag}"
    hpa = stack.one("HorizontalPodAutoscaler", APP)["spec"]
    assert hpa["minReplicas"] * 4 == 8, "Application Optimization: 8 workers"


def test_monitoring_setup(stack):
    monitors = {m["metadata"]["name"]: m["spec"]["endpoints"][0] for m in stack.all("ServiceMonitor")}
    assert set(monitors) == {f"{APP}-web", f"{APP}-database", f"{APP}-cache", f"{APP}-rabbitmq"}, \
        "8. Monitoring Setup: the app, postgres, redis and the queue"
    assert {e["interval"] for e in monitors.values()} == {"15s"}, "Prometheus Configuration: scrape_interval 15s"
    assert monitors[f"{APP}-web"]["path"] == "/metrics", "Prometheus Configuration: /metrics"
    assert stack.one("ConfigMap", f"{APP}-dashboard")["metadata"]["labels"]["grafana_dashboard"] == "1", "Grafana Setup"
    for alert in ("FlowletHighErrorRate", "FlowletDatabaseDown", "FlowletCacheMemoryNearLimit", "FlowletRabbitMQDown"):
        assert alert_expr(stack, alert), f"Monitoring Alerts: {alert}"


def test_backups_meet_the_one_hour_rpo(stack):
    backup = stack.one("CronJob", f"{APP}-backup")["spec"]
    assert backup["schedule"] == "*/30 * * * *", "9. Backup Configuration / Recovery Procedures: RPO 1 h"
    assert stack.env("CronJob", f"{APP}-backup", "prune")["RETENTION_DAYS"] == "30", "9. Backup Configuration: 30 days"
    assert stack.env("CronJob", f"{APP}-backup", "offsite")["OFFSITE_PATH"] == "flowlet-backups/database/", \
        "9. Backup Configuration: copied off-site"
    # A dump every 30 minutes that may take 20: the newest good one is at most 50 minutes old
    # while runs succeed, and the alert fires when it is older than an hour.
    deadline = backup["jobTemplate"]["spec"]["activeDeadlineSeconds"]
    assert 30 * 60 + deadline <= 3600, "Recovery Procedures: RPO 1 h"
    assert alert_expr(stack, "FlowletBackupTooOld").endswith("> 3600"), "Recovery Procedures: RPO 1 h alert"


def test_backup_verification_and_maintenance(stack):
    drill = stack.one("CronJob", f"{APP}-restore-drill")["spec"]
    assert drill["schedule"] == "0 4 * * 0", "Backup Strategy: restore testing (weekly, the guide asks monthly)"
    schedules = {c["metadata"]["name"]: c["spec"]["schedule"] for c in stack.all("CronJob")}
    assert schedules[f"{APP}-health-check"] == "*/5 * * * *", "12. Health Checks and Monitoring: every 5 minutes"
    assert schedules[f"{APP}-vacuum-analyze"] == "0 3 * * 0", "Scheduled Maintenance: weekly VACUUM and ANALYZE"


def test_security_hardening_by_network_policies(stack):
    policies = {p["metadata"]["name"]: p["spec"] for p in stack.all("NetworkPolicy")}
    assert policies["default-deny"]["podSelector"] == {}, "10. Security Hardening: deny by default"
    for store in (f"{APP}-db", f"{APP}-redis", f"{APP}-rabbitmq"):
        [peer] = policies[store]["ingress"][0]["from"]
        assert "web" in peer["podSelector"]["matchExpressions"][0]["values"], f"10. Security Hardening: {store}"
        assert set(peer) == {"podSelector"}, f"10. Security Hardening: {store} admits the app's own pods only"
