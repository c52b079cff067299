"""The Backup component's pods, run step by step as the cluster would run them: each step's
script from the repo, with the environment the rendered container gets (its literal values
and the Secrets it reads), against a real PostgreSQL and a real S3 server on loopback."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from components.backup import ArchivedVolume, Backup, BackupArgs, BackupSpec
from components.backup.component import SCRIPTS_DIR
from components.naming import AppIdentity
from tests.components.backup.conftest import ACCESS_KEY, SECRET_KEY
from tests.components.backup.scripts import SCRIPTS, STAMP, run, snapshot
from tests.conftest import run_components
from tests.servers import (
    POSTGRES_BIN,
    as_postgres,
    free_port,
    give_to_postgres,
    needs_postgres,
    needs_rclone,
    server_directory,
)

pytestmark = [needs_postgres, needs_rclone]

BUCKET = "shipyard-backups"
PREFIX = "db/prod/"


def render(endpoint: str, **overrides: object):
    spec = BackupSpec.model_validate({
        "enabled": True,
        "retentionDays": 30,
        "keepAtLeast": 2,
        "offsite": {"enabled": True, "bucket": BUCKET, "prefix": PREFIX, "provider": "Minio", "endpoint": endpoint,
                    "accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY},
        "drill": {"enabled": True, "tables": ["loans", "public.payments"]},
        **overrides,
    })
    identity = AppIdentity(name="loans", instance="loans-test")
    return run_components(lambda: Backup("backup", BackupArgs(
        namespace="ns", identity=identity, spec=spec, database="loans", image="postgres:17", connection=[],
        extensions=["uuid-ossp"],
    )))


def pod_steps(manifest: dict) -> list[dict]:
    """A Job's or a CronJob's steps, in the order its pod runs them."""
    spec = manifest["spec"]
    job = spec["jobTemplate"]["spec"] if manifest["kind"] == "CronJob" else spec
    pod = job["template"]["spec"]
    return [*(pod.get("initContainers") or []), *pod["containers"]]


def environment(step: dict, recording, **overrides: str) -> dict[str, str]:
    """What the container's environment holds: the Secrets it reads, then its own values."""
    env: dict[str, str] = {}
    for source in step.get("envFrom") or []:
        env.update(recording.one("Secret", source["secretRef"]["name"])["stringData"])
    env.update({e["name"]: e["value"] for e in step["env"] if "value" in e})
    return {**env, **overrides}


def run_step(step: dict, recording, **overrides: str) -> subprocess.CompletedProcess:
    """The step's own script, by the name its command gives under the mounted scripts."""
    command = step["command"]
    assert command[0] == "sh" and command[1].startswith(f"{SCRIPTS_DIR}/")
    script = Path(command[1]).name
    assert (SCRIPTS / script).is_file()
    return run(script, **environment(step, recording, **overrides))


@pytest.fixture(scope="module")
def rendered_backup(s3_server):
    return render(s3_server)


@pytest.fixture
def bucket(s3_server):
    s3 = boto3.client("s3", endpoint_url=s3_server, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                      region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    yield s3
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def objects(s3) -> dict[str, int]:
    return {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def run_backup(recording, backup_dir: Path, database_url: str) -> list[subprocess.CompletedProcess]:
    """Every step of the backup CronJob's pod, in order, stopping at the first failure."""
    results = []
    for step in pod_steps(recording.one("CronJob", "loans-backup")):
        results.append(run_step(step, recording, BACKUP_DIR=str(backup_dir), DATABASE_URL=database_url))
        if results[-1].returncode != 0:
            break
    return results


def test_the_backup_pod_dumps_prunes_and_copies_off_site(rendered_backup, bucket, app_url, tmp_path):
    results = run_backup(rendered_backup, tmp_path, app_url)
    assert [r.returncode for r in results] == [0, 0, 0], [r.stderr for r in results]
    [dump] = [p for p in tmp_path.iterdir()]
    assert objects(bucket) == {f"{PREFIX}{dump.name}": dump.stat().st_size}


def test_a_restore_from_the_off_site_copy_brings_back_every_row(s3_server, bucket, app_url, scratch_url, tmp_path):
    before = snapshot(app_url)
    local, elsewhere = tmp_path / "volume", tmp_path / "fetched"
    local.mkdir(), elsewhere.mkdir()
    assert [r.returncode for r in run_backup(render(s3_server), local, app_url)] == [0, 0, 0]
    # The backup volume is lost: the restore Job fetches from the bucket into its own scratch volume.
    restoring = render(s3_server, restore={"request": "lost-volume", "fromOffsite": True})
    job = restoring.one("Job", "loans-restore-lost-volume")
    fetch, restore = pod_steps(job)
    assert (fetch["name"], restore["name"]) == ("fetch", "restore")
    fetched = run_step(fetch, restoring, BACKUP_DIR=str(elsewhere))
    assert fetched.returncode == 0, fetched.stderr
    assert [p.name for p in elsewhere.iterdir()] == [p.name for p in local.iterdir()]
    restored = run_step(restore, restoring, BACKUP_DIR=str(elsewhere), DATABASE_URL=scratch_url)
    assert restored.returncode == 0, restored.stderr
    assert snapshot(scratch_url) == before


def old_name(days: float) -> str:
    return f"loans-{(datetime.now(UTC) - timedelta(days=days)).strftime(STAMP)}.dump"


def test_retention_off_site_deletes_the_old_copies_but_never_the_newest(rendered_backup, bucket, app_url, tmp_path):
    names = {days: old_name(days) for days in (90, 60, 45, 20, 0)}
    for days in (90, 60, 45, 20):
        bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}{names[days]}", Body=b"an older dump")
    bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}notes.txt", Body=b"not a dump")
    bucket.put_object(Bucket=BUCKET, Key="elsewhere/loans-20200101T000000Z.dump", Body=b"outside the prefix")
    offsite = pod_steps(rendered_backup.one("CronJob", "loans-backup"))[-1]
    (tmp_path / names[0]).write_bytes(b"tonight's dump")
    result = run_step(offsite, rendered_backup, BACKUP_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    # 30 days kept: tonight's and the 20-day-old one; everything else is left alone.
    assert sorted(objects(bucket)) == sorted([
        f"{PREFIX}{names[0]}", f"{PREFIX}{names[20]}", f"{PREFIX}notes.txt", "elsewhere/loans-20200101T000000Z.dump",
    ])


def test_retention_off_site_keeps_the_newest_when_backups_stopped(rendered_backup, bucket, tmp_path):
    names = {days: old_name(days) for days in (70, 60, 50)}
    for name in names.values():
        bucket.put_object(Bucket=BUCKET, Key=f"{PREFIX}{name}", Body=b"an old dump")
    offsite = pod_steps(rendered_backup.one("CronJob", "loans-backup"))[-1]
    assert run_step(offsite, rendered_backup, BACKUP_DIR=str(tmp_path)).returncode == 0
    assert sorted(objects(bucket)) == sorted(f"{PREFIX}{names[d]}" for d in (60, 50))


def test_a_failed_upload_fails_the_run(rendered_backup, bucket, tmp_path):
    (tmp_path / old_name(0)).write_bytes(b"tonight's dump")
    offsite = pod_steps(rendered_backup.one("CronJob", "loans-backup"))[-1]
    # rclone's own retries (minutes of backoff) cut to one, so the failure comes at once.
    unreachable = run_step(offsite, rendered_backup, BACKUP_DIR=str(tmp_path), RCLONE_RETRIES="1",
                           RCLONE_LOW_LEVEL_RETRIES="1", RCLONE_CONFIG_OFFSITE_ENDPOINT=f"http://127.0.0.1:{free_port()}")
    no_bucket = run_step(offsite, rendered_backup, BACKUP_DIR=str(tmp_path), OFFSITE_PATH="no-such-bucket/")
    assert unreachable.returncode != 0 and no_bucket.returncode != 0
    assert objects(bucket) == {}


# -- the restore drill --------------------------------------------------------------------------

@pytest.fixture
def drill_dirs():
    """The backup volume and the scratch volume, as the drill pod's user (postgres) sees them."""
    with server_directory("drill-backups") as backups, server_directory("drill-scratch") as scratch:
        yield backups, scratch


def drill(recording, backups: Path, scratch: Path, **overrides: str) -> subprocess.CompletedProcess:
    [step] = pod_steps(recording.one("CronJob", "loans-restore-drill"))
    env = environment(step, recording, BACKUP_DIR=str(backups), SCRATCH_DIR=str(scratch), **overrides)
    # The drill's scratch server refuses to run as root, as the pod's own user it runs.
    command = as_postgres(["env", f"PATH={POSTGRES_BIN}:/usr/bin:/bin", *(f"{k}={v}" for k, v in env.items()),
                           "sh", str(SCRIPTS / Path(step["command"][1]).name)])
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def backed_up(app_url: str, backups: Path) -> Path:
    result = run("backup.sh", BACKUP_DIR=str(backups), BACKUP_PREFIX="loans", DATABASE_URL=app_url)
    assert result.returncode == 0, result.stderr
    [dump] = list(backups.iterdir())
    give_to_postgres(dump)
    return dump


def test_the_drill_restores_the_newest_dump_and_counts_the_named_tables(rendered_backup, app_url, drill_dirs):
    backups, scratch = drill_dirs
    backed_up(app_url, backups)
    result = drill(rendered_backup, backups, scratch)
    assert result.returncode == 0, result.stderr
    assert "drill: loans: 500 rows" in result.stdout
    assert "drill: public.payments: 2000 rows" in result.stdout
    assert list(scratch.iterdir()) == [scratch / "drill-server.log"]  # the scratch server is gone


def test_the_drill_fails_when_the_newest_dump_is_older_than_the_schedule_allows(rendered_backup, app_url, drill_dirs):
    backups, scratch = drill_dirs
    dump = backed_up(app_url, backups)
    # Nightly, so a day and an hour at most; this one is two days old.
    dump.rename(backups / old_name(2))
    result = drill(rendered_backup, backups, scratch)
    assert result.returncode != 0
    assert re.search(r"drill: FAILED: the newest dump, loans-\d{8}T\d{6}Z\.dump, is \d+s old; the schedule allows 90600s",
                     result.stderr), result.stderr


def test_the_drill_fails_without_a_dump_or_with_a_broken_one(rendered_backup, app_url, drill_dirs):
    backups, scratch = drill_dirs
    nothing = drill(rendered_backup, backups, scratch)
    assert nothing.returncode != 0 and "no dump in" in nothing.stderr
    dump = backed_up(app_url, backups)
    dump.write_bytes(dump.read_bytes()[: dump.stat().st_size // 2])
    broken = drill(rendered_backup, backups, scratch)
    assert broken.returncode != 0 and "did not restore" in broken.stderr


def test_the_drill_fails_when_a_named_table_is_missing_or_empty(rendered_backup, app_url, drill_dirs):
    backups, scratch = drill_dirs
    backed_up(app_url, backups)
    missing = drill(rendered_backup, backups, scratch, TABLES="loans invoices")
    assert missing.returncode != 0 and "table invoices is not in" in missing.stderr
    subprocess.run(["psql", app_url, "-c", "DELETE FROM payments"], check=True, capture_output=True)
    for dump in backups.iterdir():
        dump.unlink()
    backed_up(app_url, backups)
    empty = drill(rendered_backup, backups, scratch)
    assert empty.returncode != 0 and "table public.payments is empty" in empty.stderr


# -- An app volume archived with the dumps ----------------------------------------------


def render_with_uploads(endpoint: str):
    spec = BackupSpec.model_validate({
        "enabled": True, "retentionDays": 30, "keepAtLeast": 1, "volumes": ["uploads"],
        "offsite": {"enabled": True, "bucket": BUCKET, "prefix": PREFIX, "provider": "Minio", "endpoint": endpoint,
                    "accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY},
        "drill": {"enabled": True},
    })
    identity = AppIdentity(name="loans", instance="loans-test")
    return run_components(lambda: Backup("backup", BackupArgs(
        namespace="ns", identity=identity, spec=spec, database="loans", image="postgres:17", connection=[],
        volumes=[ArchivedVolume(name="uploads", claim="loans-uploads", run_as=10001)],
    )))


def uploads_tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_the_uploads_are_archived_kept_and_copied_beside_the_dumps(s3_server, bucket, app_url, tmp_path):
    recording = render_with_uploads(s3_server)
    cron_job = recording.one("CronJob", "loans-backup")
    steps = pod_steps(cron_job)
    assert [s["name"] for s in steps] == ["dump", "archive-uploads", "prune", "prune-uploads", "offsite", "offsite-uploads"]
    archive_step = steps[1]
    # The app's user reads what the app wrote; the volume is mounted read-only.
    assert archive_step["securityContext"]["runAsUser"] == 10001
    [source] = [m for m in archive_step["volumeMounts"] if m["name"] == "source-uploads"]
    assert source["readOnly"] is True
    [claim] = [v for v in cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["volumes"] if v["name"] == "source-uploads"]
    assert claim["persistentVolumeClaim"] == {"claimName": "loans-uploads", "readOnly": True}

    uploads, backups = tmp_path / "uploads", tmp_path / "backups"
    (uploads / "avatars").mkdir(parents=True), backups.mkdir()
    (uploads / "avatars" / "7.png").write_bytes(bytes(range(256)) * 40)
    (uploads / "statement.pdf").write_bytes(b"%PDF-1.7 statement")
    (uploads / "private.txt").write_text("owner only")
    (uploads / "private.txt").chmod(0o600)
    # An archive older than the retention, and a dump of the same age: each set prunes its own.
    old = (datetime.now(UTC) - timedelta(days=90)).strftime(STAMP)
    (backups / f"uploads-{old}.tar.gz").write_bytes(b"stale")
    (backups / f"loans-{old}.dump").write_bytes(b"stale")
    for step in steps:
        result = run_step(step, recording, BACKUP_DIR=str(backups), DATABASE_URL=app_url, SOURCE_DIR=str(uploads))
        assert result.returncode == 0, (step["name"], result.stderr)
    names = sorted(p.name for p in backups.iterdir())
    [dump] = [n for n in names if n.endswith(".dump")]
    [archive] = [n for n in names if n.endswith(".tar.gz")]
    assert re.fullmatch(r"uploads-\d{8}T\d{6}Z\.tar\.gz", archive) and len(names) == 2, names
    assert objects(bucket) == {f"{PREFIX}{n}": (backups / n).stat().st_size for n in names}

    # The drill's check passes on it; then the volume is restored from it, file for file.
    [check, _] = pod_steps(recording.one("CronJob", "loans-restore-drill"))
    assert check["name"] == "check-uploads"
    checked = run_step(check, recording, BACKUP_DIR=str(backups))
    assert checked.returncode == 0 and "3 files" in checked.stdout, checked.stderr
    restored = tmp_path / "restored"
    restored.mkdir()
    unpacked = run("unarchive.sh", BACKUP_DIR=str(backups), BACKUP_PREFIX="uploads", TARGET_DIR=str(restored))
    assert unpacked.returncode == 0, unpacked.stderr
    assert uploads_tree(restored) == uploads_tree(uploads)
    assert run("unarchive.sh", BACKUP_DIR=str(backups), BACKUP_PREFIX="uploads", TARGET_DIR=str(restored)).returncode != 0


def test_the_drill_fails_on_a_torn_or_missing_archive(s3_server, tmp_path):
    recording = render_with_uploads(s3_server)
    [check, _] = pod_steps(recording.one("CronJob", "loans-restore-drill"))
    missing = run_step(check, recording, BACKUP_DIR=str(tmp_path))
    assert missing.returncode != 0 and "no archive of uploads" in missing.stderr
    torn = tmp_path / f"uploads-{datetime.now(UTC).strftime(STAMP)}.tar.gz"
    torn.write_bytes(b"\x1f\x8b\x08\x00 not a whole archive")
    failed = run_step(check, recording, BACKUP_DIR=str(tmp_path))
    assert failed.returncode != 0 and "does not read back" in failed.stderr
