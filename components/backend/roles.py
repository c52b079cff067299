"""The app's own workloads, named by their `app.kubernetes.io/component` label.

Network policies name these components one by one: a rule for "the app" must never
also select the data stores that run under the same app labels.
"""

from __future__ import annotations

from components.backend.spec import AppSpec

WEB = "web"
MIGRATION = "migration"


def worker_component(name: str) -> str:
    return f"worker-{name}"


def serving(app: AppSpec) -> list[str]:
    """The long-running processes: the web server and every worker."""
    return [WEB, *(worker_component(w.name) for w in app.workers)]


def cron_component(name: str) -> str:
    return f"cron-{name}"


def scheduled(app: AppSpec) -> list[str]:
    """The app's periodic jobs."""
    return [cron_component(job.name) for job in app.cron_jobs]


def store_clients(app: AppSpec) -> list[str]:
    """Pods that use the data stores as the app does (through any pooler): the long-running
    processes and the periodic jobs."""
    return [*serving(app), *scheduled(app)]


def one_off(app: AppSpec) -> list[str]:
    """Pods that run to completion and talk to the database itself (past any pooler)."""
    return [MIGRATION] if app.migration is not None else []


def workloads(app: AppSpec) -> list[str]:
    """Every pod that runs the app's code."""
    return [*store_clients(app), *one_off(app)]
