"""The backup, restore and retention scripts (components/database/scripts/), run as they are
against the real PostgreSQL of this package, with the app's own role and direct URL."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.components.database.conftest import SPEC, url_at
from tests.servers import POSTGRES_BIN, needs_postgres, psql

pytestmark = needs_postgres

SCRIPTS = Path(__file__).resolve().parents[3] / "components" / "database" / "scripts"
STAMP = "%Y%m%dT%H%M%SZ"


def run(script: str, **env: str) -> subprocess.CompletedProcess:
    # sh, as the image runs it (dash on Debian); the server's own client tools first on PATH.
    path = f"{POSTGRES_BIN}:{os.environ['PATH']}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    return subprocess.run(["sh", str(SCRIPTS / script)], env={**clean, "PATH": path, **env},
                          capture_output=True, text=True, timeout=120)


def snapshot(url: str) -> dict[str, str]:
    """Every table of the public schema: its row count and a checksum of its rows in order."""
    tables = psql([url], "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").stdout.split()
    return {
        table: psql([url], f"SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                           f"FROM public.{table} t").stdout.strip()
        for table in tables
    }


@pytest.fixture
def app_url(rendered, server):
    """The app database with two tables of data, emptied again afterwards."""
    url = url_at(rendered, server["port"])
    psql([url], """
        CREATE TABLE loans (id serial PRIMARY KEY, amount numeric(12, 2) NOT NULL, note text);
        CREATE TABLE payments (id serial PRIMARY KEY, loan_id int REFERENCES loans, paid_at timestamptz);
        INSERT INTO loans (amount, note) SELECT i * 10.5, 'loan ' || i FROM generate_series(1, 500) i;
        INSERT INTO payments (loan_id, paid_at)
          SELECT 1 + i % 500, timestamptz '2026-01-01' + i * interval '1 hour' FROM generate_series(1, 2000) i;
    """)
    yield url
    psql([url], "DROP TABLE IF EXISTS payments, loans")


@pytest.fixture
def scratch_url(rendered, server):
    """An empty database owned by the app's role, as a restore target."""
    psql([*server["local"], "-d", "postgres"], f'CREATE DATABASE restored OWNER "{SPEC.user}"')
    yield re.sub(rf"/{SPEC.name}$", "/restored", url_at(rendered, server["port"]))
    psql([*server["local"], "-d", "postgres"], "DROP DATABASE restored WITH (FORCE)")


def dumps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def test_a_backup_restores_every_row_into_an_empty_database(rendered, app_url, scratch_url, tmp_path):
    before = snapshot(app_url)
    assert before["loans"].startswith("500:") and before["payments"].startswith("2000:")

    backup = run("backup.sh", BACKUP_DIR=str(tmp_path), BACKUP_PREFIX="loans", DATABASE_URL=app_url)
    assert backup.returncode == 0, backup.stderr
    [dump] = dumps(tmp_path)
    assert re.fullmatch(r"loans-\d{8}T\d{6}Z\.dump", dump)
    # What happens after the backup is not in it.
    psql([app_url], "DELETE FROM payments WHERE id > 1000; UPDATE loans SET note = 'changed'")
    assert snapshot(app_url) != before

    restore = run("restore.sh", BACKUP_DIR=str(tmp_path), BACKUP_PREFIX="loans", DATABASE_URL=scratch_url)
    assert restore.returncode == 0, restore.stderr
    assert snapshot(scratch_url) == before
    # The scripts say what they did without the password in the URL.
    password = rendered["passwords"]["app-password"]
    assert password not in backup.stdout + backup.stderr + restore.stdout + restore.stderr


def test_a_restore_refuses_a_database_with_tables(app_url, tmp_path):
    assert run("backup.sh", BACKUP_DIR=str(tmp_path), DATABASE_URL=app_url).returncode == 0
    refused = run("restore.sh", BACKUP_DIR=str(tmp_path), DATABASE_URL=app_url)
    assert refused.returncode != 0 and "set ALLOW_NONEMPTY=1" in refused.stderr
    assert snapshot(app_url)["loans"].startswith("500:")


def test_a_failed_dump_exits_non_zero_and_leaves_nothing(rendered, server, app_url, tmp_path):
    wrong = app_url.replace(rendered["passwords"]["app-password"], "wrong-password")
    failed = run("backup.sh", BACKUP_DIR=str(tmp_path), DATABASE_URL=wrong)
    assert failed.returncode != 0
    assert "password authentication failed" in failed.stderr
    assert dumps(tmp_path) == []  # not even a hidden partial file


def test_a_restore_without_a_dump_fails(scratch_url, tmp_path):
    missing = run("restore.sh", BACKUP_DIR=str(tmp_path), DATABASE_URL=scratch_url)
    assert missing.returncode != 0 and "no dump" in missing.stderr


def fake_dumps(directory: Path, ages_in_days: list[float], prefix: str = "db") -> dict[float, str]:
    now = datetime.now(timezone.utc)
    names = {}
    for age in ages_in_days:
        name = f"{prefix}-{(now - timedelta(days=age)).strftime(STAMP)}.dump"
        (directory / name).write_bytes(b"dump")
        names[age] = name
    return names


def test_retention_removes_what_is_older_than_the_limit(tmp_path):
    names = fake_dumps(tmp_path, [40, 35, 31, 29, 1])
    (tmp_path / "notes.txt").write_text("not a dump")
    (tmp_path / "other-20200101T000000Z.dump").write_bytes(b"another prefix")
    pruned = run("prune.sh", BACKUP_DIR=str(tmp_path), RETENTION_DAYS="30", KEEP_AT_LEAST="2")
    assert pruned.returncode == 0, pruned.stderr
    assert dumps(tmp_path) == sorted([names[29], names[1], "notes.txt", "other-20200101T000000Z.dump"])


def test_retention_always_keeps_the_newest_ones(tmp_path):
    # Backups stopped two months ago: age alone would delete every one.
    names = fake_dumps(tmp_path, [60, 50, 40])
    assert run("prune.sh", BACKUP_DIR=str(tmp_path), RETENTION_DAYS="30", KEEP_AT_LEAST="2").returncode == 0
    assert dumps(tmp_path) == sorted([names[50], names[40]])
