"""The stack's Grafana dashboard, built with grafana-foundation-sdk's typed builders.

One row per part the stack runs (web, database, each Redis, backups), each panel a
PromQL query over the same namespace and scrape jobs the alerts use.
"""

from __future__ import annotations

import itertools
import json
import string

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from components.monitoring.rules import Watched, selector

# Every panel asks the data source the viewer picks in the dashboard's variable.
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
Query = tuple[str, str]
"""(PromQL, legend)."""


class _Panels:
    """Makes panels with ids of their own (Grafana links and edits panels by id)."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def row(self, title: str) -> dashboard.Row:
        return dashboard.Row(title).id(next(self._ids))

    def series(self, title: str, unit: str, *queries: Query) -> timeseries.Panel:
        return self._fill(timeseries.Panel(), title, unit, queries)

    def stat(self, title: str, unit: str, query: Query) -> stat.Panel:
        return self._fill(stat.Panel(), title, unit, (query,))

    def _fill(self, panel, title: str, unit: str, queries: tuple[Query, ...]):
        panel = panel.id(next(self._ids)).title(title).unit(unit).height(8).span(12).datasource(DATASOURCE)
        for ref, (expr, legend) in zip(string.ascii_uppercase, queries):
            panel = panel.with_target(
                prometheus.Dataquery().ref_id(ref).expr(expr).legend_format(legend).datasource(DATASOURCE)
            )
        return panel


def dashboard_json(watched: Watched) -> str:
    """The dashboard as Grafana's JSON model, with a data source picker."""
    panels = _Panels()
    ns = watched.namespace
    board = (
        dashboard.Dashboard(f"{watched.app} ({ns})")
        .uid(f"shipyard-{ns}"[:40])
        .tags(["shipyard", watched.app])
        .refresh("30s")
        .time("now-6h", "now")
        .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus"))
    )
    pods = selector(ns)
    board = board.with_row(panels.row("Web"))
    if watched.app_metrics is not None:
        web = selector(ns, job=watched.web_job)
        requests, duration = watched.app_metrics.requests, watched.app_metrics.duration
        board = board.with_panel(panels.series(
            "Requests per second by status", "reqps",
            (f"sum by (status) (rate({requests}{web}[5m]))", "{{status}}"),
        )).with_panel(panels.series(
            "Request time", "s",
            (f"histogram_quantile(0.5, sum by (le) (rate({duration}_bucket{web}[5m])))", "p50"),
            (f"histogram_quantile(0.95, sum by (le) (rate({duration}_bucket{web}[5m])))", "p95"),
        ))
    board = board.with_panel(panels.series(
        "Container restarts (1h)", "short",
        (f"sum by (pod) (increase(kube_pod_container_status_restarts_total{pods}[1h]))", "{{pod}}"),
    ))
    if watched.autoscaler:
        hpa = selector(ns, horizontalpodautoscaler=watched.autoscaler)
        board = board.with_panel(panels.series(
            "Web replicas", "short",
            (f"kube_horizontalpodautoscaler_status_current_replicas{hpa}", "current"),
            (f"kube_horizontalpodautoscaler_spec_max_replicas{hpa}", "max"),
        ))
    if watched.database_job:
        db = selector(ns, job=watched.database_job)
        board = board.with_row(panels.row("Database")).with_panel(panels.series(
            "Connections", "short",
            (f"sum by (state) (pg_stat_activity_count{db})", "{{state}}"),
            (f"max(pg_settings_max_connections{db})", "max_connections"),
        )).with_panel(panels.series(
            "Transactions per second", "ops",
            (f"sum(rate(pg_stat_database_xact_commit{db}[5m]))", "commits"),
            (f"sum(rate(pg_stat_database_xact_rollback{db}[5m]))", "rollbacks"),
        ))
    for role, job in watched.redis_jobs:
        redis = selector(ns, job=job)
        board = board.with_row(panels.row(f"Redis: {role}")).with_panel(panels.series(
            "Memory", "bytes",
            (f"redis_memory_used_bytes{redis}", "used"),
            (f"redis_memory_max_bytes{redis}", "maxmemory"),
        )).with_panel(panels.series(
            "Commands and evictions per second", "ops",
            (f"sum(rate(redis_commands_processed_total{redis}[5m]))", "commands"),
            (f"sum(rate(redis_evicted_keys_total{redis}[5m]))", "evicted keys"),
        ))
    if watched.scheduled:
        board = board.with_row(panels.row("Backups and scheduled jobs"))
        for job in watched.scheduled:
            cron = selector(ns, cronjob=job.cron_job)
            board = board.with_panel(panels.stat(
                f"Since the last successful {job.title}", "s",
                (f"time() - kube_cronjob_status_last_successful_time{cron}", job.cron_job),
            ))
    return json.dumps(json.loads(JSONEncoder(sort_keys=True).encode(board.build())), sort_keys=True, indent=1)
