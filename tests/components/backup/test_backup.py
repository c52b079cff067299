"""components/backup/component.py: the objects of a database's backups, as the program makes
them from stack config."""

from __future__ import annotations

import pytest

from components.backup.component import SCRIPTS
from tests.conftest import run_stack
from tests.test_stack_config import problems
from tools import render
from tools.stacks import PLACEHOLDER_SECRET

DATABASE = {"enabled": True, "name": "shop", "extensions": ["uuid-ossp"]}
COMPONENT = "app.kubernetes.io/component"


def stack(backup: dict, **database):
    return run_stack(database={**DATABASE, **database, "backup": {"enabled": True, **backup}})


def job_pod(cron_job: dict) -> dict:
    return cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def steps(pod: dict) -> dict[str, dict]:
    return {c["name"]: c for c in [*(pod.get("initContainers") or []), *pod["containers"]]}


def env(container: dict) -> dict[str, object]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


@pytest.fixture(scope="module")
def default():
    return stack({})


def test_no_backups_unless_asked():
    assert run_stack(database=DATABASE).find("CronJob") == []


def test_nightly_at_two_utc_one_run_at_a_time(default):
    cron_job = default.one("CronJob", "shop-backup")
    spec = cron_job["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("0 2 * * *", "Etc/UTC", "Forbid")
    assert spec["startingDeadlineSeconds"] == 600
    assert (spec["successfulJobsHistoryLimit"], spec["failedJobsHistoryLimit"]) == (3, 3)
    job = spec["jobTemplate"]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"]) == (1, 3600)
    assert job["template"]["spec"]["restartPolicy"] == "Never"


def test_can_configure_the_schedule_and_retention():
    recording = stack({"schedule": "30 1 * * *", "timeZone": "Europe/Berlin", "retentionDays": 14, "keepAtLeast": 3,
                       "timeoutSeconds": 600, "retries": 0})
    spec = recording.one("CronJob", "shop-backup")["spec"]
    assert (spec["schedule"], spec["timeZone"]) == ("30 1 * * *", "Europe/Berlin")
    assert (spec["jobTemplate"]["spec"]["backoffLimit"], spec["jobTemplate"]["spec"]["activeDeadlineSeconds"]) == (0, 600)
    prune = steps(job_pod(recording.one("CronJob", "shop-backup")))["prune"]
    assert (env(prune)["RETENTION_DAYS"], env(prune)["KEEP_AT_LEAST"]) == ("14", "3")


def test_the_steps_run_the_repo_scripts_in_order_with_the_servers_own_tools(default):
    pod = job_pod(default.one("CronJob", "shop-backup"))
    assert list(steps(pod)) == ["dump", "prune"]
    dump = steps(pod)["dump"]
    assert dump["command"] == ["sh", "/opt/shipyard/backup/backup.sh"]
    assert dump["image"].startswith("postgres:17")
    assert env(dump)["BACKUP_PREFIX"] == "shop"
    scripts = default.one("ConfigMap", "shop-backup-scripts")["data"]
    assert scripts == {path.name: path.read_text() for path in SCRIPTS.glob("*.sh")}
    assert {"backup.sh", "prune.sh", "restore.sh", "drill.sh", "offsite.sh", "fetch.sh"} <= set(scripts)


def test_the_dump_reads_the_database_url_and_goes_past_the_pooler():
    recording = stack({}, pgbouncer={"enabled": True})
    dump = steps(job_pod(recording.one("CronJob", "shop-backup")))["dump"]
    assert dump["envFrom"] == [{"secretRef": {"name": "shop-db"}}]
    assert env(dump)["DATABASE_URL"] == {"secretKeyRef": {"name": "shop-db", "key": "DATABASE_DIRECT_URL"}}


def test_hardened_like_every_pod(default):
    pod = job_pod(default.one("CronJob", "shop-backup"))
    assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["fsGroup"] == 999
    assert pod["automountServiceAccountToken"] is False
    for container in steps(pod).values():
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] and context["capabilities"] == {"drop": ["ALL"]}
        assert container["resources"]["limits"]["memory"]


def test_the_volume_is_kept_in_production_only(default):
    [claim] = [r for r in default.find("PersistentVolumeClaim") if r.object_name == "shop-backups"]
    assert claim.inputs["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert not claim.protect
    [kept] = [r for r in render.render("prod").find("PersistentVolumeClaim") if r.object_name == "blockscore-backups"]
    assert kept.protect and kept.retain_on_delete


def test_the_database_admits_backups_and_restores_and_only_they_reach_it(default):
    policy = default.one("NetworkPolicy", "shop-db")
    [rule] = policy["spec"]["ingress"][:1]
    admitted = rule["from"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert {"backup", "restore"} <= set(admitted) and "restore-drill" not in admitted
    backups = default.one("NetworkPolicy", "shop-backup")["spec"]
    assert backups["podSelector"]["matchExpressions"][0]["values"] == ["backup", "restore"]
    assert backups["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in backups
    drill = default.one("NetworkPolicy", "shop-restore-drill")["spec"]
    assert drill["policyTypes"] == ["Ingress", "Egress"] and "egress" not in drill


def test_off_site_copy_with_keys_from_config():
    recording = stack({"offsite": {"enabled": True, "bucket": "shop-backups", "prefix": "db/", "provider": "Cloudflare",
                                   "endpoint": "https://example.r2.cloudflarestorage.com",
                                   "accessKeyId": {"secure": "v1:id"}, "secretAccessKey": {"secure": "v1:secret"}}})
    pod = job_pod(recording.one("CronJob", "shop-backup"))
    assert list(steps(pod)) == ["dump", "prune", "offsite"]
    offsite = steps(pod)["offsite"]
    assert offsite["image"].startswith("rclone/rclone:") and "@sha256:" in offsite["image"]
    assert {k: v for k, v in env(offsite).items() if k.startswith(("RCLONE", "OFFSITE"))} == {
        "RCLONE_CONFIG_OFFSITE_TYPE": "s3", "RCLONE_CONFIG_OFFSITE_PROVIDER": "Cloudflare",
        "RCLONE_CONFIG_OFFSITE_ENV_AUTH": "true", "RCLONE_CONFIG_OFFSITE_REGION": "us-east-1",
        "RCLONE_CONFIG_OFFSITE_ENDPOINT": "https://example.r2.cloudflarestorage.com", "OFFSITE_PATH": "shop-backups/db/",
    }
    assert offsite["envFrom"] == [{"secretRef": {"name": "shop-backup-offsite"}}]
    [secret] = recording.find("Secret", "shop-backup-offsite")
    assert secret.inputs["stringData"] == {"AWS_ACCESS_KEY_ID": PLACEHOLDER_SECRET, "AWS_SECRET_ACCESS_KEY": PLACEHOLDER_SECRET}
    assert "stringData" in secret.secret_paths
    # Egress to the store's port on public addresses, beside the database.
    egress = recording.one("NetworkPolicy", "shop-backup")["spec"]["egress"]
    assert egress[-1]["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "10.0.0.0/8" in egress[-1]["to"][0]["ipBlock"]["except"]


def test_off_site_credentials_from_a_secret_made_elsewhere_or_the_pods_identity():
    named = stack({"offsite": {"enabled": True, "bucket": "shop-backups", "credentialsSecret": "s3-keys"}})
    offsite = steps(job_pod(named.one("CronJob", "shop-backup")))["offsite"]
    assert offsite["envFrom"] == [{"secretRef": {"name": "s3-keys"}}]
    assert named.find("Secret", "shop-backup-offsite") == []
    identity = stack({"offsite": {"enabled": True, "bucket": "shop-backups"}})
    assert "envFrom" not in steps(job_pod(identity.one("CronJob", "shop-backup")))["offsite"]


def test_the_drill_runs_weekly_with_the_age_the_schedule_allows():
    recording = stack({"drill": {"enabled": True, "tables": ["orders", "public.users"]}})
    cron_job = recording.one("CronJob", "shop-restore-drill")
    assert cron_job["spec"]["schedule"] == "0 4 * * 0"
    assert cron_job["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    pod = job_pod(cron_job)
    drill = steps(pod)["drill"]
    # A day between nightly runs, plus ten minutes to start and the hour a run may take.
    assert env(drill)["MAX_AGE_SECONDS"] == str(86400 + 600 + 3600)
    assert (env(drill)["TABLES"], env(drill)["EXTENSIONS"]) == ("orders public.users", "uuid-ossp")
    assert cron_job["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"][COMPONENT] == "restore-drill"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["backups"]["persistentVolumeClaim"] == {"claimName": "shop-backups", "readOnly": True}
    assert volumes["scratch"]["emptyDir"] == {"sizeLimit": "10Gi"}
    assert "envFrom" not in drill  # no database credentials: its server is its own


def test_a_drill_without_tables_sends_no_empty_variable():
    # The engine leaves an empty env value out of what it sends: an empty TABLES would
    # differ from the stored object on every preview.
    drill = steps(job_pod(stack({"drill": {"enabled": True}}).one("CronJob", "shop-restore-drill")))["drill"]
    assert "TABLES" not in env(drill)
    assert all(variable.get("value") for variable in drill["env"])


def test_a_restore_runs_once_per_request():
    assert stack({}).find("Job") == []
    recording = stack({"restore": {"request": "incident-42", "dump": "shop-20261201T020000Z.dump"}})
    [job] = recording.find("Job")
    assert job.object_name == "shop-restore-incident-42"
    # A later change to the pod (a new image) must not replace it and so restore again.
    assert job.ignore_changes == ["spec"]
    # `up` waits as long as the restore may run (two hours by default), not the engine's ten minutes.
    assert job.create_timeout == f"{2 * 3600 + 300}s"
    assert job.inputs["spec"]["activeDeadlineSeconds"] == 2 * 3600
    pod = job.inputs["spec"]["template"]["spec"]
    restore = steps(pod)["restore"]
    assert (env(restore)["DUMP"], env(restore)["ALLOW_NONEMPTY"]) == ("shop-20261201T020000Z.dump", "0")
    assert job.inputs["spec"]["backoffLimit"] == 0


def test_a_restore_from_the_off_site_copy_fetches_first():
    recording = stack({"offsite": {"enabled": True, "bucket": "shop-backups"},
                       "restore": {"request": "lost-volume", "fromOffsite": True, "allowNonEmpty": True}})
    pod = recording.one("Job", "shop-restore-lost-volume")["spec"]["template"]["spec"]
    assert list(steps(pod)) == ["fetch", "restore"]
    assert env(steps(pod)["restore"])["ALLOW_NONEMPTY"] == "1"
    assert {v["name"]: v for v in pod["volumes"]}["backups"] == {"name": "backups", "emptyDir": {}}


@pytest.mark.parametrize(("backup", "message"), [
    ({"schedule": "0 2 * *"}, "database.backup.schedule: '0 2 * *' has 4 fields; a CronJob schedule has five"),
    ({"schedule": "0 25 * * *"}, "database.backup.schedule: '0 25 * * *' is not a valid cron schedule"),
    ({"schedule": "TZ=UTC 0 2 * * *"}, "database.backup.schedule: put the time zone in `timeZone`"),
    ({"schedule": "@every 1h"}, "database.backup.schedule: '@every 1h' is not a schedule macro Kubernetes knows"),
    ({"timeZone": "Mars/Olympus"}, "database.backup.timeZone: 'Mars/Olympus' is not an IANA time zone"),
    ({"drill": {"schedule": "0 4 * * 8"}}, "database.backup.drill.schedule: '0 4 * * 8' is not a valid cron schedule"),
    ({"offsite": {"enabled": True}}, "database.backup.offsite.bucket is required when"),
    ({"offsite": {"enabled": True, "bucket": "b-1", "provider": "Minio"}},
     "database.backup.offsite.endpoint is required for"),
    ({"offsite": {"enabled": True, "bucket": "b-1", "credentialsSecret": "s3", "accessKeyId": "a",
                  "secretAccessKey": "b"}}, "database.backup.offsite.credentialsSecret, not both"),
    ({"restore": {"request": "now", "fromOffsite": True}}, "database.backup.restore.fromOffsite needs"),
    ({"restore": {"request": "now", "dump": "../etc/passwd"}}, "database.backup.restore.dump: String should match"),
    ({"drill": {"tables": ["users; DROP TABLE x"]}}, "database.backup.drill.tables[0]: String should match"),
])
def test_bad_backup_config_names_the_key(backup, message):
    found = problems(database={**DATABASE, "backup": {"enabled": True, **backup}})
    assert any(message in p for p in found), found


def test_off_site_keys_in_clear_text_are_refused():
    found = problems(database={**DATABASE, "backup": {"enabled": True, "offsite": {
        "enabled": True, "bucket": "shop-backups", "accessKeyId": "id", "secretAccessKey": "secret"}}})
    assert ("database.backup.offsite.secretAccessKey: stored in clear text; set it with "
            "`pulumi config set --secret --path 'database.backup.offsite.secretAccessKey' VALUE`") in found
