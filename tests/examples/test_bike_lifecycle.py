"""Bike Lifecycle (seed guide 004): its production guide's asks, against Pulumi.bike-lifecycle.yaml.

A FastAPI backend on its API host and a Next.js frontend on its own hosts: the second kind
of web service (top-level `frontend`). Each assertion names the guide's section.
"""

from __future__ import annotations

from safety.reachability import edges

from tools import gate

STACK = "bike-lifecycle"
APP, FRONT = "bike-lifecycle", "bike-lifecycle-frontend"


def test_create_database_and_user_with_uuid_ossp(stack):
    assert stack.env("StatefulSet", f"{APP}-db", "postgres")["POSTGRES_DB"] == "loan_manager", \
        "Database Setup › 2. Create Database and User"
    assert stack.one("Secret", f"{APP}-db")["stringData"]["DATABASE_URL"].startswith("postgresql://loan_manager_user:"), \
        "2. Create Database and User: loan_manager_user"
    init = stack.one("ConfigMap", f"{APP}-db-config")["data"]["init.sql"]
    assert 'CREATE EXTENSION IF NOT EXISTS "uuid-ossp";' in init, "2. Create Database and User: uuid-ossp"


def test_configure_postgresql(stack):
    conf = stack.postgresql_conf(f"{APP}-db-config")
    expected = {"max_connections": "100", "shared_buffers": "256MB", "effective_cache_size": "1GB",
                "maintenance_work_mem": "128MB", "checkpoint_completion_target": "0.9", "wal_buffers": "16MB",
                "random_page_cost": "1.1", "effective_io_concurrency": "200", "work_mem": "4MB",
                "min_wal_size": "1GB", "max_wal_size": "4GB"}
    assert {k: conf.get(k) for k in expected} == expected, "Database Setup › 3. Configure PostgreSQL"


def test_sql_migrations_and_materialized_views_run_before_the_rollout(stack):
    [job] = stack.all("Job")
    script = stack.container("Job", job["metadata"]["name"], "migrate")["command"][-1]
    assert "/app/database/migrations/*.sql /app/database/materialized_views/*.sql" in script, \
        "Database Setup › 4. Run Migrations and 5. Create Materialized Views"
    assert "ON_ERROR_STOP=1" in script and "--single-transaction" in script, "4. Run Migrations: a failing file stops"
    wait = stack.one("Deployment", APP)["spec"]["template"]["spec"]["initContainers"][0]
    assert "migrat" in wait["name"], "4. Run Migrations: before the new backend serves"


def test_backend_service_as_the_guide_runs_it(stack):
    command = " ".join(stack.container("Deployment", APP)["command"])
    for part in ("uvicorn app.main:app", "--host=0.0.0.0", "--port=8000", "--workers=4"):
        assert part in command, f"Backend Deployment › 3. Create Systemd Service: {part}"
    container = stack.container("Deployment", APP)
    assert container["readinessProbe"]["httpGet"]["path"] == "/health", "Post-Deployment Verification › 1. Health Checks"
    assert stack.secret_keys(f"{APP}-secrets") == {"SECRET_KEY", "JWT_SECRET_KEY"}, \
        "Backend Deployment › 2. Configure Environment Variables: secrets"


def test_the_daily_materialized_view_refresh(stack):
    refresh = stack.one("CronJob", f"{APP}-refresh-views")["spec"]
    assert (refresh["schedule"], refresh["timeZone"], refresh["concurrencyPolicy"]) == ("0 0 * * *", "Etc/UTC", "Forbid"), \
        "Backend Deployment › 4. Install Materialized View Refresh Timer: daily, never twice at once"
    assert "REFRESH MATERIALIZED VIEW" in stack.container("CronJob", f"{APP}-refresh-views")["command"][-1], \
        "4. Install Materialized View Refresh Timer"


def test_the_frontend_is_a_web_service_of_its_own(stack):
    container = stack.container("Deployment", FRONT)
    assert container["command"] == ["node", "server.js"] and container["ports"][0]["containerPort"] == 3000, \
        "Frontend Deployment › 4. Create Systemd Service: Next.js on 3000"
    assert stack.one("ConfigMap", f"{FRONT}-env")["data"]["NODE_ENV"] == "production", \
        "Frontend Deployment › 2. Configure Environment Variables"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == "http", f"Post-Deployment Verification › 6. Frontend: {probe}"
    hpa = stack.one("HorizontalPodAutoscaler", FRONT)["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 4), "the frontend scales on its own"
    assert container["envFrom"] == [{"configMapRef": {"name": f"{FRONT}-env"}}], "the frontend reads none of the app's Secrets"


def test_each_host_goes_to_its_service(stack):
    routes = {r["metadata"]["name"]: r["spec"] for r in stack.all("HTTPRoute")}
    backends = {host: [b["name"] for rule in spec["rules"] for b in rule.get("backendRefs") or []]
                for spec in routes.values() for host in spec["hostnames"] if spec["rules"][0].get("backendRefs")}
    assert backends["bikes.example.com"] == [FRONT] and backends["www.bikes.example.com"] == [FRONT], \
        "Nginx Configuration › 2. Configure Site: the frontend's server block"
    assert backends["api.bikes.example.com"] == [APP], "2. Configure Site: the API's server block"
    headers = stack.response_headers(f"{APP}-root")
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000") and headers["X-Frame-Options"] == "SAMEORIGIN", \
        "2. Configure Site: HSTS and the headers"
    limits = {m["metadata"]["name"]: m["spec"]["rateLimit"] for m in stack.all("Middleware") if "rateLimit" in m["spec"]}

    def limit_on(host: str, path: str) -> dict | None:
        [spec] = [spec for spec in routes.values()
                  if spec["hostnames"] == [host] and spec["rules"][0]["matches"][0]["path"]["value"] == path]
        names = [f["extensionRef"]["name"] for f in spec["rules"][0].get("filters") or []
                 if f["type"] == "ExtensionRef" and f["extensionRef"]["name"] in limits]
        return limits[names[0]] if names else None

    assert limit_on("api.bikes.example.com", "/") == {"average": 10, "burst": 20, "period": "1s"}, \
        "1. Configure Nginx: api_limit, 10 r/s; 2. Configure Site: burst=20 on the API"
    for host in ("bikes.example.com", "www.bikes.example.com"):
        assert limit_on(host, "/") == {"average": 30, "burst": 50, "period": "1s"}, \
            f"1. Configure Nginx: general_limit, 30 r/s; 2. Configure Site: burst=50 on {host}"
        assert limit_on(host, "/_next/") is None, "2. Configure Site: Next.js static files and images outside the limit"
    assert limit_on("api.bikes.example.com", "/health") is None, "2. Configure Site: /health outside the limit"


def test_the_frontend_never_reaches_the_database(stack):
    found = {(e.source, e.destination, e.port) for e in edges(gate.resources_of(stack.recording))}
    assert not [e for e in found if e[0] == "frontend" and e[1] == "database"], "Security Hardening"
    assert ("namespace/traefik", "frontend", 3000) in found and ("web", "database", 5432) in found


def test_ssl_and_backups(stack):
    assert sorted(n for c in stack.all("Certificate") for n in c["spec"]["dnsNames"]) == \
        ["api.bikes.example.com", "bikes.example.com", "www.bikes.example.com"], "SSL Certificate Setup › 2. Obtain Certificates"
    backup = stack.one("CronJob", f"{APP}-backup")["spec"]
    assert backup["schedule"] == "0 3 * * *", "Backup Strategy › 1. Database Backups: daily at 03:00"
    assert stack.env("CronJob", f"{APP}-backup", "prune")["RETENTION_DAYS"] == "30", "1. Database Backups: 30 days"
    assert stack.env("CronJob", f"{APP}-restore-drill", "drill")["TABLES"].split() == \
        ["bicycles", "companies", "branches"], "Maintenance Tasks › Quarterly: backup verification"
