"""The Database component's rendered postgresql.conf and init scripts, loaded by a real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

from components.database import tuning
from tests.components.database.conftest import SPEC, url_at
from tests.servers import needs_postgres, psql

pytestmark = needs_postgres


def setting(server: dict, name: str) -> tuple[str, str]:
    out = psql([*server["local"], "-d", SPEC.name], f"SELECT setting || '|' || coalesce(unit, '') FROM pg_settings WHERE name = '{name}'")
    value, unit = out.stdout.strip().split("|")
    return value, unit


def as_base_units(value: str, unit: str) -> Decimal:
    """What pg_settings reports (value in `unit`) in bytes or milliseconds."""
    factors = {"8kB": 8192, "kB": 1024, "MB": 2**20, "B": 1, "ms": 1, "s": 1000, "min": 60000, "": 1}
    return Decimal(value) * factors[unit]


def rendered_base_units(text: str, kind: str) -> Decimal:
    if kind == "memory":
        return Decimal(tuning.memory_bytes(text))
    if kind == "duration":
        number = "".join(c for c in text if c in "-0123456789")
        unit = text[len(number):] or "ms"
        return Decimal(number) * {"ms": 1, "s": 1000, "min": 60000}[unit]
    return Decimal(text)


def boot_value(server: dict, name: str) -> str:
    return psql([*server["local"], "-d", SPEC.name], f"SELECT boot_val FROM pg_settings WHERE name = '{name}'").stdout.strip()


def test_every_tuned_setting_is_in_force(rendered, server):
    settings = tuning.settings_for(4 * 2**30, 20 * 2**30, SPEC.settings_overrides())
    assert rendered["config"]["postgresql.conf"] == tuning.postgresql_conf(settings, {"hba_file": "/etc/postgresql/pg_hba.conf"})
    assert settings["max_connections"] == "200" and settings["shared_buffers"] == "1024MB"
    for name, value in settings.items():
        actual, unit = setting(server, name)
        kind = tuning.SETTINGS[name]
        if kind in ("list", "string"):
            assert actual == value, name
            assert boot_value(server, name) != value, f"{name}: the default would pass unseen"
        else:
            assert as_base_units(actual, unit) == rendered_base_units(value, kind), name
            # Each rendered value differs from PostgreSQL's own default, so a setting
            # that did not reach the server could not pass unseen.
            assert as_base_units(boot_value(server, name), unit) != as_base_units(actual, unit), name


def test_extensions_exist(server):
    out = psql([*server["local"], "-d", SPEC.name], "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension")
    assert set(out.stdout.strip().split(",")) >= {"pg_stat_statements", "uuid-ossp"}


def test_the_rendered_urls_connect_as_the_app_role(rendered, server):
    url = url_at(rendered, server["port"])
    assert psql([url], "SELECT current_user").stdout.strip() == SPEC.user
    assert rendered["app"]["ASYNC_DATABASE_URL"].startswith("postgresql+asyncpg://blockscore_user:")


def test_the_app_role_owns_its_database_but_is_not_a_superuser(rendered, server):
    url = url_at(rendered, server["port"])
    psql([url], "CREATE TABLE IF NOT EXISTS scores (id uuid PRIMARY KEY DEFAULT uuid_generate_v4(), value int)")
    psql([url], "INSERT INTO scores (value) VALUES (700)")
    assert psql([url], "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").stdout.strip() == "f"


def monitoring_url(rendered: dict, port: int) -> str:
    password = rendered["passwords"]["monitor-password"]
    return f"postgresql://monitoring:{password}@127.0.0.1:{port}/{SPEC.name}"


def test_the_monitoring_role_reads_but_cannot_write(rendered, server):
    app_url = url_at(rendered, server["port"])
    psql([app_url], "CREATE TABLE IF NOT EXISTS reports (id int)")  # made after init: default privileges
    monitor = monitoring_url(rendered, server["port"])
    assert psql([monitor], "SELECT count(*) FROM reports").returncode == 0
    assert psql([monitor], "SELECT count(*) FROM pg_stat_statements").returncode == 0
    refused = psql([monitor], "INSERT INTO reports VALUES (1)", check=False)
    assert refused.returncode != 0 and ("read-only" in refused.stderr or "permission denied" in refused.stderr)
    assert psql([monitor], "CREATE TABLE intruder (id int)", check=False).returncode != 0


def test_the_rendered_pg_hba_conf_is_the_one_in_force(server):
    rules = psql([*server["local"], "-d", "postgres"],
                 "SELECT type || ' ' || array_to_string(database, ',') || ' ' || array_to_string(user_name, ',') || ' ' || auth_method"
                 " FROM pg_hba_file_rules ORDER BY line_number").stdout.strip().split("\n")
    # No database here has standbys: nobody may open a replication connection over TCP.
    assert rules == ["local all all trust", "host all all scram-sha-256"]


def test_passwords_are_required_over_tcp(rendered, server):
    wrong = url_at(rendered, server["port"]).replace(rendered["passwords"]["app-password"], "wrong")
    refused = psql([wrong], "SELECT 1", check=False)
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr
