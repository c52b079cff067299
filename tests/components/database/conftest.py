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
        yield from _start(rendered, base)


def _start(rendered: dict, base: Path):
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
    local = ["-h", str(socket_dir), "-p", str(port), "-U", "postgres"]
    command = as_postgres([str(POSTGRES_BIN / "postgres"), "-D", str(data),
                           "-c", f"config_file={base / 'postgresql.conf'}",
                           "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
                           "-c", f"unix_socket_directories={socket_dir}"])
    with running(command, lambda: psql([*local, "-d", "postgres"], "select 1", check=False).returncode == 0, "postgres"):
        psql([*local, "-d", "postgres"], f'CREATE DATABASE "{SPEC.name}"')
        os.chmod(base / "init.sh", 0o555)  # as mounted: executed, not sourced
        init = subprocess.run(
            [str(base / "init.sh")],
            env={**os.environ, "POSTGRES_USER": "postgres", "POSTGRES_DB": SPEC.name, "APP_USER": SPEC.user,
                 "PGHOST": str(socket_dir), "PGPORT": str(port),
                 "SHIPYARD_SECRETS_DIR": str(secrets), "SHIPYARD_INIT_SQL": str(base / "init.sql")},
            capture_output=True, text=True,
        )
        assert init.returncode == 0, init.stderr
        yield {"port": port, "local": local}


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


