"""The alerting rules of one stack, as plain Prometheus rule groups.

Pure builders: the same dicts go into the PrometheusRule and, in the tests, to promtool,
which checks them and runs them against made-up series. Every rule selects by namespace
and by the scrape job (the Service a ServiceMonitor found the target through), so two
stacks in one cluster never set off each other's alerts. Workload facts come from
kube-state-metrics, which kube-prometheus-stack runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from components.cronjob import ScheduledJob
from components.monitoring.spec import AppMetricsSpec, ThresholdsSpec


@dataclass(frozen=True, kw_only=True)
class Watched:
    """What there is to watch in one stack."""

    app: str
    namespace: str
    web_job: str
    """The web Service: the scrape job of the app's own metrics."""
    app_metrics: AppMetricsSpec | None = None
    autoscaler: str | None = None
    """The web HorizontalPodAutoscaler, when the web tier scales."""
    database_job: str | None = None
    replica_job: str | None = None
    """The read replicas' Service, when the database has standbys."""
    pooler_job: str | None = None
    """The PgBouncer Service, when its exporter runs."""
    redis_jobs: Sequence[tuple[str, str]] = ()
    """(role, Service) of each Redis: the cache, the broker."""
    rabbitmq_job: str | None = None
    """The RabbitMQ Service, whose node serves its own metrics."""
    scheduled: Sequence[ScheduledJob] = ()
    certificates: Sequence[str] = ()
    """Names of the cert-manager Certificates of the stack's hosts."""
    thresholds: ThresholdsSpec = field(default_factory=ThresholdsSpec)


def alert(name: str, expr: str, *, wait: str, severity: str, summary: str, description: str, runbook: str,
          app: str) -> dict:
    return {
        "alert": name,
        "expr": expr,
        "for": wait,
        "labels": {"severity": severity, "app": app},
        "annotations": {"summary": summary, "description": description, "runbook": runbook},
    }


def selector(namespace: str, **labels: str) -> str:
    pairs = [f'namespace="{namespace}"', *(f'{k}{v}' if v[:2] in ("=~", "!=") else f'{k}="{v}"' for k, v in labels.items())]
    return "{" + ", ".join(pairs) + "}"


def rule_groups(watched: Watched) -> list[dict]:
    """Every alert group of the stack; a group only for what the stack runs."""
    groups = [_workloads(watched)]
    if watched.app_metrics is not None:
        groups.append(_requests(watched, watched.app_metrics))
    if watched.database_job or watched.replica_job or watched.redis_jobs or watched.pooler_job or watched.rabbitmq_job:
        groups.append(_data_stores(watched))
    if watched.scheduled:
        groups.append(_scheduled(watched))
    if watched.certificates:
        groups.append(_certificates(watched))
    return groups


def _requests(watched: Watched, metrics: AppMetricsSpec) -> dict:
    t, app, ns = watched.thresholds, watched.app, watched.namespace
    every = selector(ns, job=watched.web_job)
    errors = selector(ns, job=watched.web_job, status='=~"5.."')
    return {"name": f"{app}-requests", "rules": [
        alert(
            f"{_title(app)}HighErrorRate",
            f"sum(rate({metrics.requests}{errors}[5m])) / sum(rate({metrics.requests}{every}[5m])) > {t.error_ratio}",
            wait="10m", severity="critical", app=app,
            summary=f"{app}: more than {t.error_ratio:.0%} of requests fail with 5xx",
            description="{{ $value | humanizePercentage }} of requests to " + f"{app} in {ns} answered 5xx over 5 minutes.",
            runbook=(f"Read the web pods' logs (kubectl -n {ns} logs -l app.kubernetes.io/component=web); "
                     "if a rollout started it, roll back to the previous image tag with pulumi up."),
        ),
        alert(
            f"{_title(app)}HighLatency",
            f"histogram_quantile(0.95, sum by (le) (rate({metrics.duration}_bucket{every}[5m]))) > {t.p95_latency_seconds}",
            wait="10m", severity="warning", app=app,
            summary=f"{app}: 95th percentile of requests slower than {t.p95_latency_seconds:g}s",
            description="p95 request time of " + f"{app} in {ns} is " + "{{ $value | humanizeDuration }}.",
            runbook="Check the database (slow queries in pg_stat_statements) and the web pods' CPU; "
                    "scale the web tier up if it is at its limit.",
        ),
    ]}


def _workloads(watched: Watched) -> dict:
    t, app, ns = watched.thresholds, watched.app, watched.namespace
    rules = [alert(
        f"{_title(app)}PodRestarting",
        f"increase(kube_pod_container_status_restarts_total{selector(ns)}[1h]) > {t.restarts_per_hour}",
        wait="5m", severity="warning", app=app,
        summary=f"{app}: a container keeps restarting",
        description="{{ $labels.pod }}/{{ $labels.container }} in " + ns + " restarted {{ $value | humanize }} times in an hour.",
        runbook=f"kubectl -n {ns} describe pod <pod> (last state, OOMKilled?) and kubectl logs --previous.",
    )]
    if watched.autoscaler:
        hpa = selector(ns, horizontalpodautoscaler=watched.autoscaler)
        rules.append(alert(
            f"{_title(app)}AutoscalerAtMax",
            f"kube_horizontalpodautoscaler_status_current_replicas{hpa} >= kube_horizontalpodautoscaler_spec_max_replicas{hpa}",
            wait=f"{t.hpa_at_max_minutes}m", severity="warning", app=app,
            summary=f"{app}: the web tier is at its most replicas",
            description=f"{watched.autoscaler} in {ns} has run at its maximum for {t.hpa_at_max_minutes} minutes.",
            runbook="Raise app.replicas.max (and the cluster's capacity), or find what made the load grow.",
        ))
    return {"name": f"{app}-workloads", "rules": rules}


def _data_stores(watched: Watched) -> dict:
    t, app, ns = watched.thresholds, watched.app, watched.namespace
    rules = []
    if watched.database_job:
        db = selector(ns, job=watched.database_job)
        rules += [
            alert(
                f"{_title(app)}DatabaseDown", f"pg_up{db} == 0 or absent(pg_up{db})",
                wait="2m", severity="critical", app=app,
                summary=f"{app}: PostgreSQL is down or not scraped",
                description=f"The exporter beside {watched.database_job} in {ns} cannot reach the server, or is not scraped.",
                runbook=f"kubectl -n {ns} get pods -l app.kubernetes.io/component=database; read the postgres "
                        "container's log; check the data volume is not full.",
            ),
            alert(
                f"{_title(app)}DatabaseConnectionsNearLimit",
                f"sum(pg_stat_activity_count{db}) / max(pg_settings_max_connections{db}) > {t.connections_ratio}",
                wait="10m", severity="warning", app=app,
                summary=f"{app}: database connections near max_connections",
                description="{{ $value | humanizePercentage }} of max_connections in use.",
                runbook="Put PgBouncer in front (database.pgbouncer), lower the apps' pool sizes, or raise "
                        "database.tuning.max_connections with the memory to go with it.",
            ),
        ]
    if watched.replica_job:
        replica = selector(ns, job=watched.replica_job)
        rules += [
            alert(
                f"{_title(app)}DatabaseReplicaDown", f"min(pg_up{replica}) == 0 or absent(pg_up{replica})",
                wait="5m", severity="warning", app=app,
                summary=f"{app}: a read replica is down or not scraped",
                description=f"An exporter behind {watched.replica_job} in {ns} cannot reach its standby, or none is "
                            "scraped; reads on DATABASE_READ_URL go to the replicas left, or fail when there are none.",
                runbook=f"kubectl -n {ns} get pods -l app.kubernetes.io/component=database-replica; read the seed "
                        "init container's log (a first copy) and the postgres container's. A standby that fell "
                        "further behind than wal_keep_size must be seeded again: delete its pod and volume claim.",
            ),
            alert(
                f"{_title(app)}DatabaseReplicaLagging", f"max(pg_replication_lag_seconds{replica}) > {t.replica_lag_seconds}",
                wait="5m", severity="warning", app=app,
                summary=f"{app}: a read replica lags the primary",
                description="A standby replays the primary's writes {{ $value | humanizeDuration }} late: reads on "
                            "DATABASE_READ_URL see data that old.",
                runbook="Check the standby's CPU and volume (it replays alone), long queries on it holding replay "
                        "back (pg_stat_activity), and the primary's write load.",
            ),
        ]
    if watched.pooler_job:
        pooler = selector(ns, job=watched.pooler_job)
        rules.append(alert(
            f"{_title(app)}PoolerClientsWaiting",
            f"max(pgbouncer_pools_client_waiting_connections{pooler}) > 0",
            wait="5m", severity="warning", app=app,
            summary=f"{app}: clients wait for a database connection in PgBouncer",
            description="{{ $value }} clients have waited for a server connection for 5 minutes: the pool is too small "
                        "for the load, or queries hold connections too long.",
            runbook="Raise database.pgbouncer.defaultPoolSize (within max_connections), or find the slow "
                    "transactions (pg_stat_activity, pg_stat_statements).",
        ))
    for role, job in watched.redis_jobs:
        redis = selector(ns, job=job)
        name = f"{_title(app)}{_title(role)}"
        rules += [
            alert(
                f"{name}Down", f"redis_up{redis} == 0 or absent(redis_up{redis})",
                wait="2m", severity="critical", app=app,
                summary=f"{app}: the {role} Redis is down or not scraped",
                description=f"The exporter beside {job} in {ns} cannot reach Redis, or is not scraped.",
                runbook=f"kubectl -n {ns} get pods -l app.kubernetes.io/component={role}; read the redis container's log.",
            ),
            alert(
                f"{name}MemoryNearLimit",
                f"redis_memory_used_bytes{redis} / (redis_memory_max_bytes{redis} > 0) > {t.memory_ratio}",
                wait="10m", severity="warning", app=app,
                summary=f"{app}: the {role} Redis is near its maxmemory",
                description="{{ $value | humanizePercentage }} of maxmemory in use; past it Redis evicts keys "
                            "or, with noeviction, refuses writes.",
                runbook=f"Raise {role}.maxmemory (and its memory limit), or find the keys that grew (redis-cli --bigkeys).",
            ),
        ]
    if watched.rabbitmq_job:
        rabbit = selector(ns, job=watched.rabbitmq_job)
        rules += [
            alert(
                f"{_title(app)}RabbitMQDown", f"up{rabbit} == 0 or absent(up{rabbit})",
                wait="2m", severity="critical", app=app,
                summary=f"{app}: RabbitMQ is down or not scraped",
                description=f"The node behind {watched.rabbitmq_job} in {ns} does not answer its metrics scrape.",
                runbook=f"kubectl -n {ns} get pods -l app.kubernetes.io/component=rabbitmq; read the rabbitmq "
                        "container's log; check the data volume is not full.",
            ),
            alert(
                f"{_title(app)}RabbitMQBlocksPublishers",
                f"max(rabbitmq_alarms_memory_used_watermark{rabbit}) > 0 "
                f"or max(rabbitmq_alarms_free_disk_space_watermark{rabbit}) > 0",
                wait="5m", severity="critical", app=app,
                summary=f"{app}: RabbitMQ has raised a resource alarm and blocks every publisher",
                description="Memory use passed rabbitmq.memoryHighWatermark, or free disk fell below "
                            "rabbitmq.diskFreeLimit: publishers wait until it clears.",
                runbook="Find the queues that grow (rabbitmqctl list_queues name messages consumers) and the "
                        "consumers that stopped; raise rabbitmq.resources.limits.memory or rabbitmq.storage.size.",
            ),
        ]
    return {"name": f"{app}-data-stores", "rules": rules}


def _scheduled(watched: Watched) -> dict:
    app, ns = watched.app, watched.namespace
    rules = []
    for job in watched.scheduled:
        runs = selector(ns, job_name=f'=~"{job.cron_job}-[0-9]+"')
        cron = selector(ns, cronjob=job.cron_job)
        name = _title(job.cron_job)
        rules += [
            alert(
                f"{name}Failed",
                f"(kube_job_status_failed{runs} > 0) and on (namespace, job_name) "
                f"(time() - kube_job_created{runs} < {job.stale_seconds})",
                wait="0m", severity="critical", app=app,
                summary=f"{app}: the {job.title} failed",
                description="Job {{ $labels.job_name }} in " + ns + " failed.",
                runbook=job.runbook,
            ),
            alert(
                f"{name}TooOld",
                f"time() - kube_cronjob_status_last_successful_time{cron} > {job.stale_seconds}",
                wait="0m", severity="critical", app=app,
                summary=f"{app}: no successful {job.title} for longer than its schedule allows",
                description="The last success of " + f"{job.cron_job} in {ns} was " + "{{ $value | humanizeDuration }} ago.",
                runbook=job.runbook,
            ),
            alert(
                f"{name}NeverSucceeded",
                f"absent(kube_cronjob_status_last_successful_time{cron})",
                wait=f"{job.stale_seconds}s", severity="critical", app=app,
                summary=f"{app}: the {job.title} has never succeeded",
                description=f"{job.cron_job} in {ns} has no successful run since it was made.",
                runbook=job.runbook,
            ),
        ]
    return {"name": f"{app}-scheduled-jobs", "rules": rules}


def _certificates(watched: Watched) -> dict:
    t, app = watched.thresholds, watched.app
    names = "|".join(watched.certificates)
    return {"name": f"{app}-certificates", "rules": [alert(
        f"{_title(app)}CertificateExpiring",
        f'certmanager_certificate_expiration_timestamp_seconds{{name=~"{names}"}} - time() < {t.certificate_days * 86400}',
        wait="1h", severity="warning", app=app,
        summary=f"{app}: a TLS certificate expires in less than {t.certificate_days} days",
        description="{{ $labels.name }} expires in {{ $value | humanizeDuration }}; cert-manager should have renewed it.",
        runbook="kubectl describe certificate, certificaterequest and challenge (cert-manager) for why renewal fails: "
                "often the HTTP-01 challenge cannot reach the solver.",
    )]}


def _title(text: str) -> str:
    """`blockscore-backup` -> `BlockscoreBackup`: alert names are CamelCase by convention."""
    return "".join(part.capitalize() for part in text.replace("_", "-").split("-"))
