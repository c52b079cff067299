"""BlockScore (seed guide 000): its production guide's asks, against the prod stack.

Each assertion names the guide's section (`##` heading, then `###`). Where the stack differs
on purpose (shared_buffers sized to the memory limit, the broker on a Redis of its own,
workers per pod), the README says why; what the cluster makes unnecessary is listed there too.
"""

from __future__ import annotations

STACK = "prod"
APP = "blockscore"



def test_database_setup(stack):
    assert stack.env("StatefulSet", f"{APP}-db", "postgres")["POSTGRES_DB"] == "blockscore_prod", "2. Database Setup"
    assert stack.one("Secret", f"{APP}-db")["stringData"]["DATABASE_URL"].startswith("postgresql://blockscore_user:"), \
        "2. Database Setup: blockscore_user"
    conf = stack.postgresql_conf(f"{APP}-db-config")
    assert conf["shared_preload_libraries"] == "pg_stat_statements", "2. Database Setup: pg_stat_statements"
    assert conf["max_connections"] == "200", "2. Database Setup: max_connections"


def test_the_read_only_monitor_role(stack):
    init = stack.one("ConfigMap", f"{APP}-db-config")["data"]["init.sql"]
    for grant in ("GRANT CONNECT ON DATABASE", "GRANT USAGE ON SCHEMA public TO monitoring",
                  "GRANT SELECT ON ALL TABLES IN SCHEMA public TO monitoring",
                  "ALTER ROLE monitoring SET default_transaction_read_only = on"):
        assert grant in init, f"Security Configuration › 3. Database Security: {grant}"


def test_redis_configuration(stack):
    conf = set(stack.one("ConfigMap", f"{APP}-redis-config")["data"]["redis.conf"].splitlines())
    assert {"maxmemory 2gb", "maxmemory-policy allkeys-lru", "save 900 1", "save 300 10", "save 60 10000"} <= conf, \
        "3. Redis Configuration"
    assert any(line.startswith("user default on #") for line in
               stack.one("Secret", f"{APP}-redis-server")["stringData"]["users.acl"].splitlines()), \
        "3. Redis Configuration: requirepass (a password, as an ACL)"


def test_separate_logical_databases_and_a_broker_safe_from_eviction(stack):
    urls = stack.one("Secret", f"{APP}-redis")["stringData"]
    assert {name: url.rsplit("/", 1)[1] for name, url in urls.items()} == {
        "REDIS_URL": "0", "CACHE_REDIS_URL": "1", "RATELIMIT_STORAGE_URL": "3"}, "2. Environment Configuration: Redis DBs"
    broker = stack.one("Secret", f"{APP}-broker")["stringData"]["CELERY_BROKER_URL"]
    assert "@blockscore-broker." in broker, "2. Environment Configuration: CELERY_BROKER_URL"
    conf = set(stack.one("ConfigMap", f"{APP}-broker-config")["data"]["redis.conf"].splitlines())
    assert {"maxmemory-policy noeviction", "appendonly yes"} <= conf, "the broker never evicts or loses queued tasks"


def test_every_third_party_secret_is_required(stack):
    assert stack.secret_keys(f"{APP}-secrets") == {
        "SECRET_KEY", "JWT_SECRET_KEY", "PLAID_CLIENT_ID", "PLAID_SECRET", "OPENAI_API_KEY", "BLOCKCHAIN_PRIVATE_KEY",
        "BLOCKCHAIN_PROVIDER_URL", "MAIL_PASSWORD", "SENTRY_DSN"}, "2. Environment Configuration: credentials"
    env = stack.one("ConfigMap", f"{APP}-env")["data"]
    for key, value in {"FLASK_ENV": "production", "BCRYPT_LOG_ROUNDS": "12", "SESSION_COOKIE_SECURE": "True",
                       "MAX_CONTENT_LENGTH": "16777216", "ENABLE_METRICS": "True", "MAIL_PORT": "587"}.items():
        assert env[key] == value, f"2. Environment Configuration: {key}"


def test_migrations_run_before_the_rollout(stack):
    [job] = stack.all("Job")
    assert stack.container("Job", job["metadata"]["name"], "migrate")["command"] == ["flask", "db", "upgrade"], \
        "3. Database Migration"


def test_gunicorn_as_the_guide_configures_it(stack):
    command = stack.container("Deployment", APP)["command"]
    for flag in ("--bind=0.0.0.0:5000", "--worker-class=gevent", "--worker-connections=1000", "--max-requests=1000",
                 "--max-requests-jitter=50", "--timeout=30", "--keep-alive=2", "--preload"):
        assert flag in command, f"4. Application Server Setup (Gunicorn): {flag}"
    assert command[-1] == "app:app", "4. Application Server Setup (Gunicorn): app:app"


def test_celery_worker_and_beat(stack):
    worker = stack.container("Deployment", f"{APP}-celery")["command"]
    beat = stack.one("Deployment", f"{APP}-beat")
    assert worker[:5] == ["celery", "-A", "app.celery", "worker", "--loglevel=info"], "5. Process Management: worker"
    assert stack.container("Deployment", f"{APP}-beat")["command"][:5] == \
        ["celery", "-A", "app.celery", "beat", "--loglevel=info"], "5. Process Management: beat"
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"]["type"] == "Recreate", \
        "5. Process Management: one beat, never two"


def test_reverse_proxy(stack):
    [redirect] = [f for r in stack.one("HTTPRoute", f"{APP}-redirect")["spec"]["rules"] for f in r["filters"]]
    assert redirect["requestRedirect"] == {"scheme": "https", "statusCode": 301}, "6. Reverse Proxy (Nginx): 301"
    headers = stack.response_headers(f"{APP}-api")
    assert headers == {
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains", "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY", "Referrer-Policy": "strict-origin-when-cross-origin",
        "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'",
    }, "6. Reverse Proxy (Nginx): headers"
    assert stack.rate_limit(f"{APP}-api") == {"requests": 10, "unit": "Second"}, "6. Reverse Proxy: 10 r/s on /api/"
    assert stack.rate_limit(f"{APP}-api-auth") == {"requests": 5, "unit": "Second"}, "6. Reverse Proxy: 5 r/s on /api/auth/"
    policy = stack.one("BackendTrafficPolicy", f"{APP}-api")["spec"]
    assert policy["requestBuffer"]["limit"] == "16Mi", "6. Reverse Proxy (Nginx): client_max_body_size 16M"
    rules = stack.one("HTTPRoute", f"{APP}-api")["spec"]["rules"]
    assert rules[0]["timeouts"]["request"] == "60s", "6. Reverse Proxy (Nginx): 60 s proxy timeouts"


def test_certificates_from_lets_encrypt(stack):
    [issuer] = stack.all("ClusterIssuer")
    assert issuer["spec"]["acme"]["server"] == "https://acme-v02.api.letsencrypt.org/directory", "7. SSL Certificate Setup"
    [certificate] = stack.all("Certificate")
    assert certificate["spec"]["dnsNames"] == ["api.blockscore.com"], "7. SSL Certificate Setup: api.blockscore.com"


def test_health_checks_and_metrics(stack):
    container = stack.container("Deployment", APP)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/api/health", f"Docker Deployment: HEALTHCHECK ({probe})"
    monitor = stack.one("ServiceMonitor", f"{APP}-web")["spec"]["endpoints"][0]
    assert monitor["path"] == "/metrics", "Monitoring and Observability › 1. Application Monitoring"


def test_nightly_backups_kept_thirty_days(stack):
    backup = stack.one("CronJob", f"{APP}-backup")["spec"]
    assert (backup["schedule"], backup["timeZone"]) == ("0 2 * * *", "Etc/UTC"), "Backup and Recovery › 1. Database Backup"
    assert stack.env("CronJob", f"{APP}-backup", "prune")["RETENTION_DAYS"] == "30", "1. Database Backup: 30 days"
    assert stack.env("CronJob", f"{APP}-backup", "offsite")["OFFSITE_PATH"] == "blockscore-backups/database/", \
        "1. Database Backup: s3://blockscore-backups/database/"
    assert stack.one("CronJob", f"{APP}-restore-drill")["spec"]["schedule"], "Maintenance: test backup restoration"


def test_the_uploads_are_backed_up(stack):
    # The guide's application backup tars the app directory, uploads included; the code
    # itself is the image, so what is left to keep is the uploads volume.
    archive = stack.container("CronJob", f"{APP}-backup", "archive-uploads")
    assert [m["mountPath"] for m in archive["volumeMounts"] if m["name"] == "source-uploads"] == ["/source/uploads"], \
        "Backup and Recovery › 2. Application Backup: tar -czf of the uploads"
    volumes = stack.one("CronJob", f"{APP}-backup")["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"]
    assert {"claimName": f"{APP}-uploads", "readOnly": True} in [v.get("persistentVolumeClaim") for v in volumes], \
        "2. Application Backup: the uploads volume every web pod mounts"
    assert stack.env("CronJob", f"{APP}-backup", "prune-uploads")["RETENTION_DAYS"] == "30", \
        "2. Application Backup: kept (30 days, like the dumps)"
    assert stack.env("CronJob", f"{APP}-backup", "offsite-uploads")["BACKUP_SUFFIX"] == ".tar.gz", \
        "2. Application Backup: copied off-site with the dumps"


def test_the_firewall_is_network_policy(stack):
    policies = {p["metadata"]["name"]: p["spec"] for p in stack.all("NetworkPolicy")}
    assert policies["default-deny"]["podSelector"] == {} and set(policies["default-deny"]["policyTypes"]) == \
        {"Ingress", "Egress"}, "Security Configuration › 1. Firewall Setup: deny incoming by default"
    [web_in] = policies[f"{APP}-web-ingress"]["ingress"][:1]
    assert web_in["from"][0]["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "envoy-gateway-system"}, \
        "1. Firewall Setup: web traffic only through the edge"
