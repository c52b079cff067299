"""The backup, restore and retention scripts (components/backup/scripts/), run as they are
against the real PostgreSQL of this package, with the app's own role and direct URL."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.components.backup.scripts import STAMP, dumps, run, snapshot
from tests.servers import needs_postgres, psql

pytestmark = needs_postgres


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


def test_a_restore_told_to_replaces_what_is_there(app_url, tmp_path):
    before = snapshot(app_url)
    assert run("backup.sh", BACKUP_DIR=str(tmp_path), DATABASE_URL=app_url).returncode == 0
    psql([app_url], "DELETE FROM payments WHERE id > 100; UPDATE loans SET note = 'changed'; CREATE TABLE extra (id int)")
    replaced = run("restore.sh", BACKUP_DIR=str(tmp_path), DATABASE_URL=app_url, ALLOW_NONEMPTY="1")
    assert replaced.returncode == 0, replaced.stderr
    after = snapshot(app_url)
    # Every table of the dump is as it was; a table made since is left alone.
    assert {k: v for k, v in after.items() if k != "extra"} == before
    assert "extra" in after
    psql([app_url], "DROP TABLE extra")
