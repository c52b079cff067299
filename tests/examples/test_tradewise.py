"""TradeWise AI (seed guide 003): every ask of its production guide, against Pulumi.tradewise.yaml.

The guide targets a hosted platform and is silent on much (workers, Redis, body sizes, header
values other than HSTS); examples/tradewise/README.md lists what the stack chose there, and
what the cluster makes unnecessary.
"""

from __future__ import annotations

import json

import pytest

from stack_config import ConfigError, load
from tools.stacks import config_for

STACK = "tradewise"
APP, HOST = "tradewise", "tradewise.example.com"



def test_production_required_variables(stack):
    # SESSION_SECRET is generated (64 characters, the guide asks 32 or more) and the
    # Stripe key comes from the encrypted stack config, both in the app's Secret.
    assert stack.secret_keys(f"{APP}-secrets") == {"SESSION_SECRET", "STRIPE_SECRET_KEY"}, "Production Required Variables"
    [session] = [r for r in stack.recording.resources if r.type.startswith("random:") and "SESSION_SECRET" in r.name.upper().replace("-", "_")]
    assert session.inputs["length"] >= 32, "Production Required Variables: SESSION_SECRET of 32+ characters"
    # DATABASE_URL: the database's Secret, read by the app.
    assert "DATABASE_URL" in stack.secret_keys(f"{APP}-db"), "Production Required Variables: DATABASE_URL"
    sources = {s["secretRef"]["name"] for s in stack.container("Deployment", APP)["envFrom"] if "secretRef" in s}
    assert sources == {f"{APP}-db", f"{APP}-secrets"}, "Production Required Variables: the app reads both"


def test_production_refuses_to_deploy_without_the_stripe_key():
    raw, secret_keys = config_for("tradewise")
    secrets = json.loads(raw["shipyard:secrets"])
    del secrets["values"]["STRIPE_SECRET_KEY"]
    with pytest.raises(ConfigError, match="STRIPE_SECRET_KEY"):
        load({**raw, "shipyard:secrets": json.dumps(secrets)}, "tradewise", secret_keys)


def test_https_enforcement(stack):
    [redirect] = [f for r in stack.one("HTTPRoute", f"{APP}-redirect")["spec"]["rules"] for f in r["filters"]]
    assert redirect["requestRedirect"] == {"scheme": "https", "statusCode": 301}, "HTTPS Enforcement: HTTP goes to HTTPS"
    for route in (f"{APP}-root", f"{APP}-api"):
        assert stack.response_headers(route)["Strict-Transport-Security"].startswith("max-age=31536000"), \
            "HTTPS Enforcement: HSTS for one year"
    [certificate] = stack.all("Certificate")
    assert certificate["spec"]["dnsNames"] == [HOST], "HTTPS Enforcement: a certificate for the host"


def test_security_headers(stack):
    headers = stack.response_headers(f"{APP}-root")
    assert headers["X-Frame-Options"] == "DENY", "Security Headers: X-Frame-Options"
    assert headers["X-Content-Type-Options"] == "nosniff", "Security Headers: X-Content-Type-Options"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", "Security Headers: Referrer-Policy"
    # The guide gives no CSP value: the app's own passes through untouched.
    assert "Content-Security-Policy" not in headers, "Security Headers: CSP left to the app"


def test_thirty_requests_a_minute(stack):
    for policy in (f"{APP}-api", f"{APP}-create-checkout-session"):
        assert stack.rate_limit(policy) == {"requests": 30, "unit": "Minute"}, "Input Validation / API Security: 30 per minute"


def test_postgresql_production_setup_and_connection_pool(stack):
    assert stack.env("StatefulSet", f"{APP}-db", "postgres")["POSTGRES_DB"] == "tradewise_prod", "PostgreSQL Production Setup"
    conf = stack.postgresql_conf(f"{APP}-db-config")
    # pool_size 10 + max_overflow 20 per process, one process per pod, at most 4 pods.
    autoscaler = stack.one("HorizontalPodAutoscaler", APP)["spec"]
    assert int(conf["max_connections"]) >= autoscaler["maxReplicas"] * 30, "Connection Pool Settings"


def test_migrations_run_before_the_app_starts(stack):
    [job] = stack.all("Job")
    command = " ".join(stack.container("Job", job["metadata"]["name"], "migrate")["command"])
    assert "db.create_all()" in command, "Running Migrations / Database Initialization"
    first_step = stack.one("Deployment", APP)["spec"]["template"]["spec"]["initContainers"][0]
    assert "migrat" in first_step["name"], "Database Initialization: app pods wait for the migration"


def test_application_startup(stack):
    container = stack.container("Deployment", APP)
    assert "--bind=0.0.0.0:5000" in container["command"] and container["command"][-1] == "main:app", "Application Startup"
    assert "--reload" not in container["command"], "Application Startup: no file watcher in production"
    assert container["ports"][0]["containerPort"] == 5000, "Application Startup: port 5000"


def test_post_deployment_verification_and_automated_health_checks(stack):
    container = stack.container("Deployment", APP)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/api/health", f"Automated Health Checks: {probe}"


def test_daily_backup_with_thirty_days_kept_and_a_remote_copy(stack):
    backup = stack.one("CronJob", f"{APP}-backup")["spec"]
    assert backup["schedule"] == "0 2 * * *", "Daily Backup Script: 02:00"
    assert stack.env("CronJob", f"{APP}-backup", "prune")["RETENTION_DAYS"] == "30", "Local Backup Strategy: 30 days"
    offsite = stack.env("CronJob", f"{APP}-backup", "offsite")
    assert offsite["OFFSITE_PATH"] == "tradewise-backups/tradewise-ai/", "Remote Backup Strategy"
    assert stack.secret_keys(f"{APP}-backup-offsite") == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}, "Remote Backup Strategy: keys"


def test_database_recovery_is_rehearsed(stack):
    assert stack.one("CronJob", f"{APP}-restore-drill")["spec"]["schedule"], "Database Recovery: weekly restore drill"


def test_alerts_for_the_maintenance_schedule(stack):
    [rules] = stack.all("PrometheusRule")
    alerts = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert {"TradewiseBackupFailed", "TradewiseBackupTooOld", "TradewiseCertificateExpiring"} <= alerts, \
        ("Daily Tasks: backup status and SSL validity are watched", alerts)
