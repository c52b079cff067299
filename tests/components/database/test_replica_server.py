"""Read replicas on two real PostgreSQL servers, from what the Database component renders.

The primary's volume is first initialised without replicas, as a running stack's is;
turning `database.replica` on then runs the primary's init container (the replication
role, in single-user mode) and the standby's (a base backup), and both servers start
on the rendered postgresql.conf and pg_hba.conf. Only addresses and paths are moved to
the test's: the scripts and files are the rendered ones.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from components.database import Database, DatabaseArgs, DatabaseSpec
from components.database.replication import PASSWORD_KEY, ROLE
from components.naming import AppIdentity
from tests.components.database.conftest import (
    server_command,
    start_primary,
    write_files,
)
from tests.conftest import run_components, step
from tests.servers import (
    POSTGRES_BIN,
    as_postgres,
    free_port,
    give_to_postgres,
    needs_postgres,
    psql,
    running,
    server_directory,
    wait_for,
)

pytestmark = needs_postgres

BASE = {
    "enabled": True,
    "name": "loan_db_prod",
    "user": "loan_app",
    "storage": {"size": "20Gi"},
    "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}},
    "extensions": ["pg_stat_statements"],
}
WITHOUT_REPLICA = DatabaseSpec.model_validate(BASE)
WITH_REPLICA = DatabaseSpec.model_validate({**BASE, "replica": {"enabled": True}})
# Generated passwords are letters and digits; the mocks' carry the resource's name.
REPLICATION_PASSWORD = "Zr8qLw2Vx7Kp4Nd9Tb3Hs6Jf1Mc5Gy0A"


def render(spec: DatabaseSpec) -> dict:
    identity = AppIdentity(name="loan", instance="loan-test")
    recording = run_components(
        lambda: Database("db", DatabaseArgs(namespace="ns", identity=identity, spec=spec, clients=["web"]))
    )
    passwords = dict(recording.one("Secret", "loan-db-server")["stringData"])
    if PASSWORD_KEY in passwords:
        passwords[PASSWORD_KEY] = REPLICATION_PASSWORD
    rendered = {
        "config": recording.one("ConfigMap", "loan-db-config")["data"],
        "passwords": passwords,
        "app": recording.one("Secret", "loan-db")["stringData"],
        "primary": recording.one("StatefulSet", "loan-db"),
    }
    if spec.replica.enabled:
        replica = recording.one("StatefulSet", "loan-db-replica")
        keys = [item["key"] for volume in replica["spec"]["template"]["spec"]["volumes"] if volume["name"] == "secrets"
                for item in volume["secret"]["items"]]
        rendered["replica"] = {
            "statefulset": replica,
            "config": recording.one("ConfigMap", "loan-db-replica-config")["data"],
            # What the standby's pod mounts of the server Secret, and nothing more.
            "passwords": {key: passwords[key] for key in keys},
        }
    return rendered


def script(statefulset: dict, container: str) -> str:
    command = step(statefulset, container)["command"]
    assert command[:2] == ["sh", "-c"]
    return command[2]


def run_script(text: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(as_postgres(["sh", "-c", text]), env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def at(url: str, port: int) -> str:
    return re.sub(r"@[^/@]+/", f"@127.0.0.1:{port}/", url)


@pytest.fixture(scope="module")
def servers():
    before, after = render(WITHOUT_REPLICA), render(WITH_REPLICA)
    with server_directory("primary") as primary_base, server_directory("standby") as standby_base:
        # A primary that has run for a while without replicas, with a table of the app's.
        with_rows = start_primary(before, primary_base, WITHOUT_REPLICA)
        first = next(with_rows)
        psql([at(before["app"]["DATABASE_URL"], first["port"])], "CREATE TABLE loans (id int PRIMARY KEY, amount int)")
        psql([at(before["app"]["DATABASE_URL"], first["port"])], "INSERT INTO loans VALUES (1, 500)")
        with_rows.close()  # stops the server, as a pod's restart does

        secrets = write_files(after, primary_base)
        role_env = {"PGDATA": str(first["data"]), "SHIPYARD_CONFIG_DIR": str(primary_base), "SHIPYARD_SECRETS_DIR": str(secrets)}
        # Every start of the primary runs it; the second run finds the role and sets it again.
        ensured = [run_script(script(after["primary"], "replication-role"), role_env) for _ in range(2)]
        primary = start_primary(after, primary_base, WITH_REPLICA, data=first["data"])
        primary_server = next(primary)

        standby = standby_base / "volume"
        standby.mkdir()
        give_to_postgres(standby)
        replica = after["replica"]
        config = {**replica["config"], "postgresql.conf": re.sub(
            r"host=\S+ port=\d+", f"host=127.0.0.1 port={primary_server['port']}", replica["config"]["postgresql.conf"]
        ).replace("passfile=/run/replication/pgpass", f"passfile={standby_base / 'pgpass'}")}
        standby_secrets = write_files({"config": config, "passwords": replica["passwords"]}, standby_base)
        pgdata = standby / "pgdata"
        seed_env = {"PGDATA": str(pgdata), "PRIMARY_HOST": "127.0.0.1", "PRIMARY_PORT": str(primary_server["port"]),
                    "PGPASSFILE": str(standby_base / "pgpass"), "SHIPYARD_SECRETS_DIR": str(standby_secrets)}
        seeded = run_script(script(replica["statefulset"], "seed"), seed_env)
        assert seeded.returncode == 0, seeded.stderr
        socket_dir = standby_base / "run"
        socket_dir.mkdir()
        give_to_postgres(socket_dir)
        port = free_port()
        local = ["-h", str(socket_dir), "-p", str(port), "-U", "postgres"]
        with running(server_command(standby_base, pgdata, port, socket_dir),
                     lambda: psql([*local, "-d", "postgres"], "select 1", check=False).returncode == 0, "standby"):
            yield {"rendered": after, "ensured": ensured, "primary": primary_server, "seed_env": seed_env,
                   "seed": script(replica["statefulset"], "seed"), "standby": {"port": port, "local": local}}
        primary.close()


def test_the_primary_init_container_makes_the_replication_role_on_an_existing_volume(servers):
    for run in servers["ensured"]:
        assert run.returncode == 0, run.stderr
        assert REPLICATION_PASSWORD not in run.stdout + run.stderr
    role = psql([*servers["primary"]["local"], "-d", "postgres"],
                f"SELECT rolreplication, rolcanlogin, rolsuper FROM pg_roles WHERE rolname = '{ROLE}'")
    assert role.stdout.strip() == "t|t|f"


def test_on_a_new_volume_the_init_container_leaves_the_role_to_initialisation(tmp_path):
    rendered = render(WITH_REPLICA)
    empty = tmp_path / "empty"
    run = subprocess.run(["sh", "-c", script(rendered["primary"], "replication-role")],
                         env={**os.environ, "PGDATA": str(empty)}, capture_output=True, text=True, timeout=30)
    assert run.returncode == 0 and "new volume" in run.stdout


def test_a_new_primary_volume_gets_the_role_from_its_init_script():
    rendered = render(WITH_REPLICA)
    with server_directory("new-primary") as base:
        for server in start_primary(rendered, base, WITH_REPLICA):
            role = psql([*server["local"], "-d", "postgres"], f"SELECT rolreplication FROM pg_roles WHERE rolname = '{ROLE}'")
            assert role.stdout.strip() == "t"


def test_a_row_written_on_the_primary_is_read_on_the_replica(servers):
    app = servers["rendered"]["app"]
    psql([at(app["DATABASE_URL"], servers["primary"]["port"])], "INSERT INTO loans VALUES (2, 900)")
    read_url = at(app["DATABASE_READ_URL"], servers["standby"]["port"])

    def replicated() -> bool:
        out = psql([read_url], "SELECT amount FROM loans WHERE id = 2", check=False)
        return out.stdout.strip() == "900"

    wait_for(replicated, "the new row on the replica", seconds=30)
    # The row the base backup copied, read as the app's role through the read URL.
    assert psql([read_url], "SELECT amount FROM loans WHERE id = 1").stdout.strip() == "500"
    assert app["ASYNC_DATABASE_READ_URL"].startswith("postgresql+asyncpg://loan_app:")


def test_the_replica_streams_from_the_primary_and_refuses_writes(servers):
    name = psql([*servers["primary"]["local"], "-d", "postgres"],
                "SELECT application_name || '|' || state || '|' || usename FROM pg_stat_replication")
    assert name.stdout.strip() == f"loan-db-replica|streaming|{ROLE}"
    read_url = at(servers["rendered"]["app"]["DATABASE_READ_URL"], servers["standby"]["port"])
    assert psql([read_url], "SELECT pg_is_in_recovery()").stdout.strip() == "t"
    # Long reads on the replica are not cancelled by the primary's vacuum.
    assert psql([*servers["standby"]["local"], "-d", "postgres"], "SHOW hot_standby_feedback").stdout.strip() == "on"
    refused = psql([read_url], "INSERT INTO loans VALUES (3, 1)", check=False)
    assert refused.returncode != 0 and "read-only transaction" in refused.stderr


def test_only_the_replication_role_may_copy_the_primary(servers, tmp_path):
    app = servers["rendered"]["app"]
    copy = subprocess.run(
        [str(POSTGRES_BIN / "pg_basebackup"), "--host=127.0.0.1", f"--port={servers['primary']['port']}",
         f"--username={app['PGUSER']}", "--no-password", f"--pgdata={tmp_path / 'copy'}"],
        env={**os.environ, "PGPASSWORD": app["PGPASSWORD"]}, capture_output=True, text=True, timeout=60,
    )
    assert copy.returncode != 0 and "no pg_hba.conf entry for replication connection" in copy.stderr


def test_a_seeded_standby_restarts_without_copying_again(servers):
    again = run_script(servers["seed"], servers["seed_env"])
    assert again.returncode == 0 and "already seeded" in again.stdout
    pgpass = Path(servers["seed_env"]["PGPASSFILE"])
    assert oct(pgpass.stat().st_mode & 0o777) == "0o600"
