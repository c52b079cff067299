"""The rendered pgbouncer.ini and userlist, run by a real PgBouncer in front of the test server.

The ini's `[databases]` entry and listen address are pointed at the loopback test
server; everything else (auth, pool mode, limits) is used as rendered.
"""

from __future__ import annotations

import os
import re
import subprocess

from tests.components.database.conftest import SPEC
from tests.servers import needs_pgbouncer, needs_postgres, psql

pytestmark = [needs_postgres, needs_pgbouncer]


def test_the_pooled_url_reaches_the_database_through_pgbouncer(rendered, pooler):
    assert psql([pooler], "SELECT current_user || '@' || current_database()").stdout.strip() == f"{SPEC.user}@{SPEC.name}"
    assert "pooler" in rendered["app"]["PGHOST"] and "pooler" not in rendered["app"]["DATABASE_DIRECT_URL"]


def test_the_pooler_checks_passwords(rendered, pooler):
    wrong = pooler.replace(rendered["passwords"]["app-password"], "wrong")
    assert psql([wrong], "SELECT 1", check=False).returncode != 0


def test_pool_settings_are_the_configured_ones(rendered, pooler):
    # pgbouncer refuses to start on a setting it does not know, so the fixture's start
    # is the check that every rendered line is valid; these are the values asked for.
    ini = rendered["pooler"]
    assert "pool_mode = transaction" in ini
    assert "max_client_conn = 500" in ini and "default_pool_size = 5" in ini
    assert "auth_type = scram-sha-256" in ini


def test_the_exporters_login_reads_the_admin_console_and_no_database(rendered, pooler):
    """The exporter's connection string as rendered (its password from PGPASSWORD, as libpq
    and lib/pq read it), pointed at the test PgBouncer."""
    [flag] = [a for a in rendered["exporter"]["args"] if a.startswith("--pgBouncer.connectionString=")]
    port = pooler.split("@127.0.0.1:")[1].split("/")[0]
    url = re.sub(r"@127\.0\.0\.1:\d+/", f"@127.0.0.1:{port}/", flag.partition("=")[2])
    assert ":" not in url.split("//")[1].split("@")[0]  # no password in the pod spec
    password = {"PGPASSWORD": rendered["stats_password"]}
    pools = psql_env([url], "SHOW POOLS", password)
    assert pools.returncode == 0, pools.stderr
    assert SPEC.name in pools.stdout
    assert psql_env([url], "SHOW POOLS", {"PGPASSWORD": "wrong"}).returncode != 0
    # Stats only: no way into the app's database, nor into the admin commands.
    app_db = url.replace("/pgbouncer?", f"/{SPEC.name}?")
    assert psql_env([app_db], "SELECT 1", password).returncode != 0
    assert psql_env([url], "PAUSE", password).returncode != 0


def psql_env(args: list[str], sql: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(["psql", "--no-psqlrc", "--tuples-only", "--no-align", *args, "-c", sql],
                          capture_output=True, text=True, timeout=30, env={**clean, **env})
