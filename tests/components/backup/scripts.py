"""Running the backup scripts as their pods run them, and reading a database's contents."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.servers import POSTGRES_BIN, psql

SCRIPTS = Path(__file__).resolve().parents[3] / "components" / "backup" / "scripts"
STAMP = "%Y%m%dT%H%M%SZ"


def run(script: str, **env: str) -> subprocess.CompletedProcess:
    # sh, as the image runs it (dash on Debian); the server's own client tools first on PATH.
    path = f"{POSTGRES_BIN}:{os.environ['PATH']}"
    # Nothing of this machine's own database, S3 or rclone settings reaches the script.
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "AWS_", "RCLONE_"))}
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


def dumps(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())
