"""The app's own periodic jobs (`app.cronJobs`): CronJobs from the app image, with its
environment, its hardening, its migration gate, and a way into its data stores."""

from __future__ import annotations

from typing import Any

import pytest

from components.backend.workload import CHECKSUM_ANNOTATION
from components.database.rollout import WAIT_CONTAINER
from tests.components.test_backend import GATE, MIGRATION, backend
from tests.conftest import MINIMAL_APP, run_stack
from tests.test_stack_config import problems

REFRESH = {"name": "refresh-stats", "schedule": "0 3 * * *",
           "command": ["psql", "-c", "REFRESH MATERIALIZED VIEW CONCURRENTLY bike_stats"]}
DIGEST = {"name": "digest", "schedule": "30 7 * * 1-5", "timeZone": "Europe/Berlin", "command": ["python", "-m", "digest"],
          "retries": 0, "timeoutSeconds": 300}


def cron_job(recording, name: str) -> dict[str, Any]:
    return recording.one("CronJob", name)


def pod(job: dict[str, Any]) -> dict[str, Any]:
    return job["spec"]["jobTemplate"]["spec"]["template"]


def test_no_cron_jobs_by_default():
    assert backend().find("CronJob") == []


def test_a_cron_job_runs_the_app_image_with_the_apps_environment():
    recording = backend({"cronJobs": [REFRESH], "env": {"LOG_LEVEL": "INFO"}})
    job = cron_job(recording, "shop-refresh-stats")
    spec = job["spec"]
    assert (spec["schedule"], spec["timeZone"], spec["concurrencyPolicy"]) == ("0 3 * * *", "Etc/UTC", "Forbid")
    assert (spec["jobTemplate"]["spec"]["backoffLimit"], spec["jobTemplate"]["spec"]["activeDeadlineSeconds"]) == (1, 3600)
    template = pod(job)
    [container] = template["spec"]["containers"]
    web = recording.one("Deployment", "shop")["spec"]["template"]
    [web_container] = web["spec"]["containers"]
    assert container["command"] == REFRESH["command"]
    assert (container["image"], container["envFrom"]) == (web_container["image"], web_container["envFrom"])
    assert container["securityContext"] == web_container["securityContext"]
    # A change to the environment reaches the next run, as it rolls the web pods.
    assert template["metadata"]["annotations"][CHECKSUM_ANNOTATION] == web["metadata"]["annotations"][CHECKSUM_ANNOTATION]
    assert template["spec"]["restartPolicy"] == "Never"
    assert template["metadata"]["labels"]["app.kubernetes.io/component"] == "cron-refresh-stats"
    assert "livenessProbe" not in container


def test_can_configure_time_zone_retries_deadline_and_suspend():
    recording = backend({"cronJobs": [DIGEST, {**REFRESH, "suspend": True}]})
    digest = cron_job(recording, "shop-digest")["spec"]
    assert (digest["schedule"], digest["timeZone"]) == ("30 7 * * 1-5", "Europe/Berlin")
    assert (digest["jobTemplate"]["spec"]["backoffLimit"], digest["jobTemplate"]["spec"]["activeDeadlineSeconds"]) == (0, 300)
    assert "suspend" not in digest
    assert cron_job(recording, "shop-refresh-stats")["spec"]["suspend"] is True


def test_a_cron_job_waits_for_its_migration_like_every_app_pod():
    recording = backend({**MIGRATION, "cronJobs": [REFRESH]}, rollout_gate=GATE)
    [wait] = pod(cron_job(recording, "shop-refresh-stats"))["spec"]["initContainers"]
    [web_wait] = recording.one("Deployment", "shop")["spec"]["template"]["spec"]["initContainers"]
    assert wait["name"] == WAIT_CONTAINER and wait == web_wait
    [job] = recording.find("Job")
    [cron] = recording.find("CronJob")
    assert job.urn in cron.dependencies


def test_cron_jobs_reach_the_stores_as_the_app_does():
    recording = run_stack(app={**MINIMAL_APP, "cronJobs": [REFRESH]}, database={"enabled": True, "pgbouncer": {"enabled": True}},
                          cache={"enabled": True})
    for policy, port in (("shop-db-pooler", 6432), ("shop-redis", 6379)):
        [rule] = recording.one("NetworkPolicy", policy)["spec"]["ingress"][:1]
        assert "cron-refresh-stats" in rule["from"][0]["podSelector"]["matchExpressions"][0]["values"], policy
        assert rule["ports"] == [{"protocol": "TCP", "port": port}]
    # Past the pooler only the migration and the backups go.
    assert "cron-refresh-stats" not in str(recording.one("NetworkPolicy", "shop-db")["spec"]["ingress"])
    egress = recording.one("NetworkPolicy", "shop-egress")["spec"]["podSelector"]
    assert "cron-refresh-stats" in egress["matchExpressions"][0]["values"]


@pytest.mark.parametrize(("job", "message"), [
    ({**REFRESH, "schedule": "every night"}, "app.cronJobs[0].schedule: 'every night' has 2 fields"),
    ({**REFRESH, "schedule": "0 3 * * * *"}, "app.cronJobs[0].schedule: '0 3 * * * *' has 6 fields"),
    ({**REFRESH, "schedule": "61 3 * * *"}, "app.cronJobs[0].schedule: '61 3 * * *' is not a valid cron schedule"),
    ({**REFRESH, "timeZone": "CEST"}, "app.cronJobs[0].timeZone: 'CEST' is not an IANA time zone"),
    ({**REFRESH, "command": []}, "app.cronJobs[0].command: List should have at least 1 item"),
    ({"name": "x", "command": ["true"]}, "app.cronJobs[0].schedule: required"),
])
def test_bad_cron_job_config_names_the_key(job, message):
    found = problems({**MINIMAL_APP, "cronJobs": [job]})
    assert any(message in p for p in found), found


def test_cron_job_names_are_unique():
    found = problems({**MINIMAL_APP, "cronJobs": [REFRESH, REFRESH]})
    assert "app.cronJobs names must be unique; repeated: refresh-stats" in found[0]
