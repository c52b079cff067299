"""The rollout gate's steps, as a stack renders them, run against a real PostgreSQL.

The loan-lifecycle stack has a pooler, so both connections are exercised: the
migration Job records its revision straight to the server (its direct URL), and app
pods wait for it through PgBouncer (the only way the database's policy lets them in).
Each step runs its rendered command with the environment its pod would get, from
the test server's Secret values.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

import pytest

from components.database.rollout import (
    RECORD_CONTAINER,
    REVISION_VARIABLE,
    WAIT_CONTAINER,
)
from tests.components.database.conftest import url_at
from tests.conftest import step
from tests.servers import needs_pgbouncer, needs_postgres, psql
from tools import render

pytestmark = [needs_postgres, needs_pgbouncer]


@pytest.fixture(scope="module")
def stack():
    recording = render.render("loan-lifecycle")
    [job] = recording.find("Job")
    return {
        "job": job.inputs,
        "web": recording.one("Deployment", "loan-backend"),
    }


@pytest.fixture(scope="module")
def secret(rendered, server, pooler) -> dict[str, str]:
    """The database Secret's connection values, pointed at the test servers."""
    return {"DATABASE_URL": pooler, "DATABASE_DIRECT_URL": url_at(rendered, server["port"]),
            "DATABASE_DIRECT_HOST": "127.0.0.1", "DATABASE_DIRECT_PORT": str(server["port"])}


def environment(container: dict[str, Any], secret: dict[str, str]) -> dict[str, str]:
    """What the kubelet gives the container: its Secret's keys, then its own variables."""
    env = {}
    for source in container.get("envFrom") or []:
        assert "secretRef" in source, source
        env.update(secret)
    for variable in container.get("env") or []:
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        else:
            env[variable["name"]] = secret[variable["valueFrom"]["secretKeyRef"]["key"]]
    return {"PATH": os.environ["PATH"], **env}


def start(container: dict[str, Any], secret: dict[str, str], **overrides: str) -> subprocess.Popen:
    return subprocess.Popen(container["command"], env={**environment(container, secret), **overrides},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(process: subprocess.Popen, seconds: float = 30) -> tuple[int, str]:
    output, _ = process.communicate(timeout=seconds)
    return process.returncode, output


def revision_of(container: dict[str, Any]) -> str:
    [value] = [v["value"] for v in container["env"] if v["name"] == REVISION_VARIABLE]
    return value


def still_waiting(process: subprocess.Popen, seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        time.sleep(0.2)
    return True


def test_app_pods_start_only_after_the_migration_of_their_revision_is_recorded(stack, secret, server):
    wait = step(stack["web"], WAIT_CONTAINER)
    record = step(stack["job"], RECORD_CONTAINER)
    assert revision_of(wait) == revision_of(record) == stack["job"]["metadata"]["name"]
    # Through the pooler, exactly as the web pods connect.
    assert environment(wait, secret)["DATABASE_URL"] == secret["DATABASE_URL"]
    assert environment(record, secret)["DATABASE_URL"] == secret["DATABASE_DIRECT_URL"]

    waiting = start(wait, secret)
    try:
        assert still_waiting(waiting), finish(waiting)
        assert finish(start(record, secret))[0] == 0
        code, output = finish(waiting)
    finally:
        waiting.kill()
    assert code == 0
    assert f"waiting for migration {revision_of(wait)}" in output  # what `kubectl logs` shows meanwhile


def test_a_pod_of_a_newer_revision_keeps_waiting_for_its_own_migration(stack, secret):
    assert finish(start(step(stack["job"], RECORD_CONTAINER), secret))[0] == 0
    newer = start(step(stack["web"], WAIT_CONTAINER), secret, **{REVISION_VARIABLE: "loan-backend-migrate-0000000000"})
    try:
        assert still_waiting(newer)
    finally:
        newer.kill()
        newer.wait()
    # Pods of a revision already migrated (a restart, a scale-up) start at once.
    assert finish(start(step(stack["web"], WAIT_CONTAINER), secret), seconds=10)[0] == 0


def test_recording_is_repeatable_and_stays_out_of_the_apps_schema(stack, secret, server):
    record = step(stack["job"], RECORD_CONTAINER)
    for _ in range(2):  # a Job re-run by hand, or a rollback that migrates again
        assert finish(start(record, secret))[0] == 0
    direct = [secret["DATABASE_DIRECT_URL"]]
    assert psql(direct, f"SELECT count(*) FROM shipyard.migrations WHERE revision = '{revision_of(record)}'").stdout.strip() == "1"
    # ORMs that compare their models with the public schema never see the gate's table.
    assert psql(direct, "SELECT count(*) FROM pg_tables WHERE tablename = 'migrations' AND schemaname <> 'shipyard'").stdout.strip() == "0"

