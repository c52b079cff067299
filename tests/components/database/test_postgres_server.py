"""The Database component's rendered postgresql.conf and init scripts, loaded by a real PostgreSQL.

The server is started the way the official image starts it: initdb, the rendered
postgresql.conf as `config_file`, the app database created, then the rendered init
script run with the passwords from the rendered Secret. Only the listen address,
port and socket directory are overridden, to keep the test server on loopback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest

from components.database import Database, DatabaseArgs, DatabaseSpec
from components.database import tuning
from components.naming import AppIdentity
from tests.conftest import run_components
from tests.servers import POSTGRES_BIN, as_postgres, free_port, give_to_postgres, needs_postgres, psql, wait_for

pytestmark = needs_postgres

SPEC = DatabaseSpec.model_validate(
    {
        "enabled": True,
        "name": "blockscore_prod",
        "user": "blockscore_user",
        "storage": {"size": "20Gi"},
        "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "tuning": {"max_connections": 200, "log_min_duration_statement": "250ms", "checkpoint_completion_target": 0.8},
        "extensions": ["pg_stat_statements", "uuid-ossp"],
    }
)


@pytest.fixture(scope="module")
def rendered():
    identity = AppIdentity(name="blockscore", instance="blockscore-test")
    recording = run_components(
        lambda: Database("db", DatabaseArgs(namespace="ns", identity=identity, spec=SPEC, client_pods={"a": "b"}))
    )
    return {
        "config": recording.one("ConfigMap", "blockscore-db-config")["data"],
        "passwords": recording.one("Secret", "blockscore-db-server")["stringData"],
        "app": recording.one("Secret", "blockscore-db")["stringData"],
    }


@pytest.fixture(scope="module")
def server(rendered):
    # Not under pytest's tmp_path: that is private to root, and the server runs as postgres.
    base = Path(tempfile.mkdtemp(prefix="shipyard-postgres-"))
    os.chmod(base, 0o755)
    give_to_postgres(base)
    data, socket_dir, secrets = base / "data", base / "run", base / "secrets"
    for directory in (socket_dir, secrets):
        directory.mkdir()
        give_to_postgres(directory)
    for name, text in rendered["config"].items():
        (base / name).write_text(text)
    for name, value in rendered["passwords"].items():
        (secrets / name).write_text(value)
    admin_password = base / "admin-password"
    admin_password.write_text(rendered["passwords"]["admin-password"])
    for path in (*secrets.iterdir(), admin_password):
        give_to_postgres(path)

    # As the image's entrypoint does: initdb with the admin password, password auth over TCP.
    initdb = subprocess.run(
        as_postgres([str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={admin_password}",
                     "--auth-local=trust", "--auth-host=scram-sha-256"]),
        capture_output=True, text=True,
    )
    assert initdb.returncode == 0, initdb.stderr
    port = free_port()
    process = subprocess.Popen(
        as_postgres([str(POSTGRES_BIN / "postgres"), "-D", str(data),
                     "-c", f"config_file={base / 'postgresql.conf'}", "-c", f"hba_file={data / 'pg_hba.conf'}",
                     "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
                     "-c", f"unix_socket_directories={socket_dir}"]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    local = ["-h", str(socket_dir), "-p", str(port), "-U", "postgres"]
    try:
        wait_for(lambda: psql([*local, "-d", "postgres"], "select 1", check=False).returncode == 0, "postgres")
        psql([*local, "-d", "postgres"], f'CREATE DATABASE "{SPEC.name}"')
        init = subprocess.run(
            ["sh", str(base / "init.sh")],
            env={**os.environ, "POSTGRES_USER": "postgres", "POSTGRES_DB": SPEC.name, "APP_USER": SPEC.user,
                 "PGHOST": str(socket_dir), "PGPORT": str(port),
                 "SHIPYARD_SECRETS_DIR": str(secrets), "SHIPYARD_INIT_SQL": str(base / "init.sql")},
            capture_output=True, text=True,
        )
        assert init.returncode == 0, init.stderr
        yield {"port": port, "local": local}
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def url_at(rendered: dict, port: int, key: str = "DATABASE_URL") -> str:
    """The rendered URL, pointed at the test server instead of the cluster Service."""
    host = rendered["app"]["PGHOST"]
    return rendered["app"][key].replace(f"@{host}:5432/", f"@127.0.0.1:{port}/")


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
    assert rendered["config"]["postgresql.conf"] == tuning.postgresql_conf(settings)
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
    assert url_at(rendered, server["port"], "SQLALCHEMY_DATABASE_URI") == url
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


def test_passwords_are_required_over_tcp(rendered, server):
    wrong = url_at(rendered, server["port"]).replace(rendered["passwords"]["app-password"], "wrong")
    refused = psql([wrong], "SELECT 1", check=False)
    assert refused.returncode != 0 and "password authentication failed" in refused.stderr
