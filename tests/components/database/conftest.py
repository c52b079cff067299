"""A real PostgreSQL started from what the Database component renders (see servers.py).

The server is started the way the official image starts it: initdb, the rendered
postgresql.conf as `config_file`, the app database created, then the rendered init
script run with the passwords from the rendered Secret. Only the listen address,
port and socket directory are overridden, to keep the test server on loopback.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from components.database import Database, DatabaseArgs, DatabaseSpec
from components.naming import AppIdentity
from tests.conftest import run_components
from tests.servers import (
    PGBOUNCER,
    POSTGRES_BIN,
    as_postgres,
    free_port,
    give_to_postgres,
    psql,
    running,
    server_directory,
)

SPEC = DatabaseSpec.model_validate(
    {
        "enabled": True,
        "name": "blockscore_prod",
        "user": "blockscore_user",
        "storage": {"size": "20Gi"},
        "resources": {"requests": {"cpu": "1", "memory": "4Gi"}, "limits": {"cpu": "2", "memory": "4Gi"}},
        "tuning": {"max_connections": 200, "log_min_duration_statement": "250ms", "checkpoint_completion_target": 0.8},
        "extensions": ["pg_stat_statements", "uuid-ossp"],
        "pgbouncer": {"enabled": True, "maxClientConn": 500, "defaultPoolSize": 5, "exporter": {"enabled": True}},
    }
)


@pytest.fixture(scope="package")
def rendered():
    identity = AppIdentity(name="blockscore", instance="blockscore-test")
    recording = run_components(
        lambda: Database("db", DatabaseArgs(namespace="ns", identity=identity, spec=SPEC, clients=["web"]))
    )
    return {
        "config": recording.one("ConfigMap", "blockscore-db-config")["data"],
        "passwords": recording.one("Secret", "blockscore-db-server")["stringData"],
        "app": recording.one("Secret", "blockscore-db")["stringData"],
        "pooler": recording.one("ConfigMap", "blockscore-db-pooler")["data"]["pgbouncer.ini"],
        "userlist": recording.one("Secret", "blockscore-db-pooler")["stringData"]["userlist.txt"],
        "stats_password": recording.one("Secret", "blockscore-db-pooler")["stringData"]["stats-password"],
        "exporter": [c for c in recording.one("Deployment", "blockscore-db-pooler")["spec"]["template"]["spec"]["containers"]
                     if c["name"] == "exporter"][0],
    }


@pytest.fixture(scope="package")
def server(rendered):
    with server_directory("postgres") as base:
        yield from start_primary(rendered, base, SPEC)


def write_files(rendered: dict, base: Path) -> Path:
    """The ConfigMap's files in `base` (scripts executable, as mounted) and the Secret's in
    `base/secrets`, owned by the postgres user; returns the secrets directory."""
    secrets = base / "secrets"
    secrets.mkdir(exist_ok=True)
    give_to_postgres(secrets)
    for name, text in rendered["config"].items():
        (base / name).unlink(missing_ok=True)  # a file of an earlier render, read-only
        (base / name).write_text(text)
        os.chmod(base / name, 0o555 if name.endswith(".sh") else 0o444)  # as mounted: executed, not sourced
    for name, value in rendered["passwords"].items():
        (secrets / name).unlink(missing_ok=True)
        (secrets / name).write_text(value)
        os.chmod(secrets / name, 0o400)
        give_to_postgres(secrets / name)
    return secrets


def server_command(base: Path, data: Path, port: int, socket_dir: Path) -> list[str]:
    """The server as the image starts it, on the rendered postgresql.conf and pg_hba.conf;
    only where it listens, and the path of pg_hba.conf, are moved to the test's."""
    return as_postgres([str(POSTGRES_BIN / "postgres"), "-D", str(data),
                        "-c", f"config_file={base / 'postgresql.conf'}", "-c", f"hba_file={base / 'pg_hba.conf'}",
                        "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
                        "-c", f"unix_socket_directories={socket_dir}"])


def start_primary(rendered: dict, base: Path, spec: DatabaseSpec, data: Path | None = None):
    """Initialise a new volume as the image does and run the server; on an existing `data`
    directory, only run it. Yields the port and psql's arguments for the superuser."""
    socket_dir = base / "run"
    socket_dir.mkdir(exist_ok=True)
    give_to_postgres(socket_dir)
    secrets = write_files(rendered, base)
    port = free_port()
    local = ["-h", str(socket_dir), "-p", str(port), "-U", "postgres"]
    new = data is None
    data = data or base / "data"
    if new:
        # As the image's entrypoint does: initdb with the admin password.
        initdb = subprocess.run(
            as_postgres([str(POSTGRES_BIN / "initdb"), "-D", str(data), "-U", "postgres",
                         f"--pwfile={secrets / 'admin-password'}"]),
            capture_output=True, text=True,
        )
        assert initdb.returncode == 0, initdb.stderr
    command = server_command(base, data, port, socket_dir)
    with running(command, lambda: psql([*local, "-d", "postgres"], "select 1", check=False).returncode == 0, "postgres"):
        if new:
            psql([*local, "-d", "postgres"], f'CREATE DATABASE "{spec.name}"')
            init = subprocess.run(
                as_postgres([str(base / "init.sh")]),
                env={**os.environ, "POSTGRES_USER": "postgres", "POSTGRES_DB": spec.name, "APP_USER": spec.user,
                     "PGHOST": str(socket_dir), "PGPORT": str(port), "SHIPYARD_CONFIG_DIR": str(base),
                     "SHIPYARD_SECRETS_DIR": str(secrets), "SHIPYARD_INIT_SQL": str(base / "init.sql")},
                capture_output=True, text=True,
            )
            assert init.returncode == 0, init.stderr
        yield {"port": port, "local": local, "data": data}


@pytest.fixture(scope="package")
def pooler(rendered, server):
    """A real PgBouncer from the rendered ini in front of the test server; yields the pooled URL."""
    with server_directory("pgbouncer") as base:
        port = free_port()
        userlist = base / "userlist.txt"
        userlist.write_text(rendered["userlist"])
        ini = re.sub(r"host=\S+ port=\d+", f"host=127.0.0.1 port={server['port']}", rendered["pooler"])
        ini = ini.replace("listen_addr = *", "listen_addr = 127.0.0.1").replace("listen_port = 6432", f"listen_port = {port}")
        ini = re.sub(r"auth_file = \S+", f"auth_file = {userlist}", ini)
        (base / "pgbouncer.ini").write_text(ini)
        for path in base.iterdir():
            give_to_postgres(path)
        url = url_at(rendered, port, "DATABASE_URL")
        # pgbouncer refuses to run as root too.
        with running(as_postgres([PGBOUNCER, str(base / "pgbouncer.ini")]),
                     lambda: psql([url], "SELECT 1", check=False).returncode == 0, "pgbouncer"):
            yield url


def url_at(rendered: dict, port: int, key: str = "DATABASE_DIRECT_URL") -> str:
    """The rendered URL, pointed at a test server instead of the cluster Service."""
    return re.sub(r"@[^/@]+/", f"@127.0.0.1:{port}/", rendered["app"][key])


