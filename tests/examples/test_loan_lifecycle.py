"""Loan Lifecycle (seed guide 002): its production guide's asks, against Pulumi.loan-lifecycle.yaml.

Each assertion names the guide's section. The guide gives its read replica no settings; what
the stack does for it is in examples/loan-lifecycle/README.md, and two real servers show it
streaming in tests/components/database/test_replica_server.py.
"""

from __future__ import annotations

STACK = "loan-lifecycle"
APP = "loan-backend"



def test_postgresql_configuration(stack):
    assert stack.env("StatefulSet", f"{APP}-db", "postgres")["POSTGRES_DB"] == "loan_db_prod", "3. Database Setup"
    assert "//loan_app:" in stack.one("Secret", f"{APP}-db")["stringData"]["DATABASE_URL"], "3. Database Setup: loan_app"


def test_optimize_postgresql_for_production(stack):
    conf = stack.postgresql_conf(f"{APP}-db-config")
    expected = {"max_connections": "100", "shared_buffers": "2048MB", "effective_cache_size": "6144MB",
                "maintenance_work_mem": "512MB", "checkpoint_completion_target": "0.9", "wal_buffers": "16MB",
                "min_wal_size": "1GB", "max_wal_size": "4GB", "random_page_cost": "1.1",
                "effective_io_concurrency": "200", "log_min_duration_statement": "1000"}
    assert {k: conf.get(k) for k in expected} == expected, "3. Database Setup › Optimize PostgreSQL for Production"


def test_environment_variables(stack):
    env = stack.one("ConfigMap", f"{APP}-env")["data"]
    for key, value in {"ENV": "production", "DEBUG": "False", "ALGORITHM": "HS256", "ACCESS_TOKEN_EXPIRE_MINUTES": "30",
                       "RATE_LIMIT_PER_MINUTE": "60"}.items():
        assert env[key] == value, f"4. Application Deployment › Configure Environment Variables: {key}"
    assert "SECRET_KEY" in stack.secret_keys(f"{APP}-secrets"), "Configure Environment Variables: SECRET_KEY"
    [secret_key] = [r for r in stack.recording.resources if r.type.startswith("random:") and r.name.endswith("secret-key")]
    assert secret_key.inputs["length"] >= 64, "13. Security Checklist: SECRET_KEY of 64+ characters"


def test_database_migrations(stack):
    [job] = stack.all("Job")
    command = stack.container("Job", job["metadata"]["name"], "migrate")["command"]
    assert "init_db()" in command[-1], "4. Application Deployment › Database Migrations"


def test_gunicorn_configuration(stack):
    command = stack.container("Deployment", APP)["command"]
    for flag in ("--bind=0.0.0.0:8000", "--worker-class=uvicorn.workers.UvicornWorker", "--worker-connections=1000",
                 "--backlog=2048", "--timeout=30", "--keep-alive=2", "--log-level=info"):
        assert flag in command, f"5. Application Server Configuration › Gunicorn Configuration: {flag}"


def test_nginx_configuration(stack):
    middlewares = {m["metadata"]["name"]: m["spec"] for m in stack.all("Middleware")}
    assert middlewares[f"{APP}-limit-root"]["rateLimit"] == {"average": 60, "burst": 20, "period": "1m"}, \
        "7. Nginx Configuration: rate limit (60 a minute, burst 20, the app's RATE_LIMIT_PER_MINUTE)"
    assert middlewares[f"{APP}-body"]["buffering"]["maxRequestBodyBytes"] == 10 * 2**20, \
        "7. Nginx Configuration: client_max_body_size 10M"
    cors = middlewares[f"{APP}-headers"]["headers"]
    assert cors["accessControlAllowOriginList"] == ["https://loans.example.com", "https://www.loans.example.com"], \
        "20. Production Environment Variables: CORS restricted to the frontend's origins"
    headers = stack.response_headers(f"{APP}-root")
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY", \
        "7. Nginx Configuration: security headers"


def test_https_with_lets_encrypt(stack):
    [redirect] = [f for r in stack.one("HTTPRoute", f"{APP}-redirect")["spec"]["rules"] for f in r["filters"]]
    assert redirect["requestRedirect"]["scheme"] == "https", "8. SSL/TLS Configuration: HTTPS only"
    [issuer] = stack.all("ClusterIssuer")
    assert "letsencrypt" in issuer["spec"]["acme"]["server"], "8. SSL/TLS Configuration: Let's Encrypt"


def test_pgbouncer_in_transaction_mode(stack):
    ini = dict(line.split(" = ", 1) for line in stack.one("ConfigMap", f"{APP}-db-pooler")["data"]["pgbouncer.ini"].splitlines()
               if " = " in line)
    assert (ini["pool_mode"], ini["max_client_conn"], ini["default_pool_size"], ini["listen_port"]) == \
        ("transaction", "100", "20", "6432"), "12. Performance Optimization › PgBouncer (Connection Pooling)"
    assert "@loan-backend-db-pooler." in stack.one("Secret", f"{APP}-db")["stringData"]["DATABASE_URL"], \
        "PgBouncer (Connection Pooling): the app connects through the pooler"


def test_backup_strategy(stack):
    backup = stack.one("CronJob", f"{APP}-backup")["spec"]
    assert backup["schedule"] == "0 2 * * *", "11. Backup Strategy › Database Backups: daily at 2 AM"
    assert stack.env("CronJob", f"{APP}-backup", "prune")["RETENTION_DAYS"] == "30", "Database Backups: 30 days"
    assert stack.one("CronJob", f"{APP}-restore-drill")["spec"]["schedule"], "14. Deployment Checklist: backup tested"


def test_firewall_and_monitoring(stack):
    policies = {p["metadata"]["name"]: p["spec"] for p in stack.all("NetworkPolicy")}
    [peer] = policies[f"{APP}-db"]["ingress"][0]["from"]
    assert "web" not in peer["podSelector"]["matchExpressions"][0]["values"], \
        "9. Firewall Configuration: PostgreSQL only from the pooler and the jobs, never from outside"
    assert stack.one("ServiceMonitor", f"{APP}-database"), "10. Monitoring & Logging › PostgreSQL Monitoring"


def test_read_replica(stack):
    standby = stack.one("StatefulSet", f"{APP}-db-replica")
    assert standby["spec"]["replicas"] == 1, "Architecture Overview: [PostgreSQL Replica] (for read scaling)"
    assert "pg_basebackup" in stack.container("StatefulSet", f"{APP}-db-replica", "seed")["command"][2], \
        "Architecture Overview: the replica is a copy of the primary"
    env = stack.one("Secret", f"{APP}-db")["stringData"]
    assert f"@{APP}-db-replica." in env["DATABASE_READ_URL"], "17. Scaling Strategies: PostgreSQL read replicas"
    # The standby runs on the primary's size, so its hot-standby settings are at least the primary's.
    assert stack.postgresql_conf(f"{APP}-db-replica-config")["shared_buffers"] == "2048MB", \
        "3. Database Setup › Optimize PostgreSQL for Production (on the replica too)"
