"""The rendered pgbouncer.ini and userlist, run by a real PgBouncer in front of the test server.

The ini's `[databases]` entry and listen address are pointed at the loopback test
server; everything else (auth, pool mode, limits) is used as rendered.
"""

from __future__ import annotations

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
