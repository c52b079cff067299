"""The CronJob settings every scheduled job of the project shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pulumi_kubernetes as k8s

from components.schedule import longest_gap

STARTING_DEADLINE_SECONDS = 600
"""How late a run may still start (a controller restart, a busy cluster); a later one is
skipped and counts as missed, which the age alerts then see."""
HISTORY = 3
"""Finished Jobs kept of each outcome: enough to read why the last runs failed."""


def overdue_after(schedule: str, time_zone: str, timeout_seconds: int) -> timedelta:
    """How long after a CronJob's last success a run has been missed: the longest gap between
    two runs, plus the time a run may take to start and to finish (the active deadline bounds
    a whole run, its retries included). What the age alerts and the restore drill allow."""
    return longest_gap(schedule, time_zone) + timedelta(seconds=STARTING_DEADLINE_SECONDS + timeout_seconds)


def job_spec(
    template: k8s.core.v1.PodTemplateSpecArgs, *, timeout_seconds: int, retries: int
) -> k8s.batch.v1.JobSpecArgs:
    """A Job that is stopped after `timeout_seconds` and tried `retries` more times."""
    return k8s.batch.v1.JobSpecArgs(
        backoff_limit=retries,
        active_deadline_seconds=timeout_seconds,
        template=template,
    )


def cron_job_spec(
    job: k8s.batch.v1.JobSpecArgs, *, schedule: str, time_zone: str, suspend: bool = False
) -> k8s.batch.v1.CronJobSpecArgs:
    """Never two runs at once: a run still going when the next is due makes that one wait
    its turn or be skipped, rather than two writers on one volume or database."""
    return k8s.batch.v1.CronJobSpecArgs(
        schedule=schedule,
        time_zone=time_zone,
        suspend=suspend or None,
        concurrency_policy="Forbid",
        starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
        successful_jobs_history_limit=HISTORY,
        failed_jobs_history_limit=HISTORY,
        job_template=k8s.batch.v1.JobTemplateSpecArgs(spec=job),
    )


@dataclass(frozen=True, kw_only=True)
class ScheduledJob:
    """A CronJob whose runs are watched: failed recently, or no success for too long."""

    cron_job: str
    title: str
    """What it is, in an alert's words: `backup of blockscore_prod`."""
    stale_seconds: int
    """How long after its last success a run is overdue: the longest gap between runs, plus
    the time a run may take to start and to finish."""
    runbook: str
