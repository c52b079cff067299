"""Real PostgreSQL and Redis servers for the tests, on loopback and free ports.

Installed from Debian by `.ci/run`; the tests that need one are skipped only when
the binary is missing, which `make test` reports as a skip, never as a pass.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

POSTGRES_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
POSTGRES_BIN = Path(POSTGRES_BINS[-1]) if POSTGRES_BINS else None
needs_postgres = pytest.mark.skipif(POSTGRES_BIN is None, reason="PostgreSQL server not installed (apt-get install postgresql)")
needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
# Debian installs pgbouncer in /usr/sbin, which is not on every PATH.
PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
needs_pgbouncer = pytest.mark.skipif(PGBOUNCER is None, reason="pgbouncer not installed (apt-get install pgbouncer)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; run as the Debian package's postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def wait_for(check, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not come up within {seconds} s")


def give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


@contextlib.contextmanager
def server_directory(prefix: str) -> Iterator[Path]:
    """A scratch directory the postgres user can use, removed afterwards.

    Not under pytest's tmp_path: that is private to root, and PostgreSQL and
    PgBouncer refuse to run as root.
    """
    base = Path(tempfile.mkdtemp(prefix=f"shipyard-{prefix}-"))
    os.chmod(base, 0o755)
    give_to_postgres(base)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@contextlib.contextmanager
def running(command: list[str], ready: Callable[[], bool], what: str, cwd: Path | None = None) -> Iterator[None]:
    """A server process, started, ready for the with-block, and stopped after it.

    A server that exits while starting fails the test with its own output.
    """
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: process.poll() is not None or ready(), what)
        if process.poll() is not None:
            raise AssertionError(f"{what} exited while starting:\n{process.stdout.read()}")
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def psql(url_or_args: list[str], sql: str, *, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["psql", "--no-psqlrc", "--tuples-only", "--no-align", "-v", "ON_ERROR_STOP=1", *url_or_args, "-c", sql],
        capture_output=True, text=True, check=check, timeout=30,
    )
