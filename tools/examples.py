"""The example systems under examples/: the production guides this project replaces, one
stack each. Each directory holds the system's README (what the guide does by hand and what
the stack does instead) and its architecture picture (tools/diagram.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tools.recording import ROOT

EXAMPLES_DIR = ROOT / "examples"


@dataclass(frozen=True)
class System:
    name: str
    """Its directory under examples/."""
    title: str
    stack: str
    """The stack that deploys it (its Pulumi.<stack>.yaml)."""

    @property
    def directory(self) -> Path:
        return EXAMPLES_DIR / self.name

    @property
    def dot_file(self) -> Path:
        return self.directory / "architecture.dot"

    @property
    def svg_file(self) -> Path:
        return self.directory / "architecture.svg"


SYSTEMS = {
    system.name: system
    for system in (
        System("blockscore", "BlockScore: Flask + Celery, PostgreSQL, Redis", "prod"),
        System("loan-lifecycle", "Loan Lifecycle: FastAPI, PostgreSQL behind PgBouncer with a read replica", "loan-lifecycle"),
        System("tradewise", "TradeWise AI: Flask, PostgreSQL, HTTPS only", "tradewise"),
        System("bike-lifecycle", "Bike Lifecycle: FastAPI API and a Next.js frontend on their own hosts",
               "bike-lifecycle"),
        System("flowlet", "Flowlet: Flask, PostgreSQL, Redis, RabbitMQ, off-site backups every 30 minutes", "flowlet"),
    )
}
