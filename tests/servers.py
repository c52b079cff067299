"""Real PostgreSQL, PgBouncer, Redis, RabbitMQ and S3 servers for the tests, on loopback and free ports.

`make test` installs them (tools/ensure-servers.sh). A test marked `needs_postgres`,
`needs_pgbouncer` or `needs_redis` FAILS when its server is missing, with the command
that installs it; it is skipped only when the user opts out of real servers with
SHIPYARD_SKIP_REAL_SERVERS=1. (The hook that applies the markers is in conftest.py.)
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
from dataclasses import dataclass
from pathlib import Path

import pytest

POSTGRES_BINS = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
POSTGRES_BIN = Path(POSTGRES_BINS[-1]) if POSTGRES_BINS else None
PSQL = shutil.which("psql")  # the client the tests talk to PostgreSQL with; same package
REDIS_SERVER = shutil.which("redis-server")
# Debian installs pgbouncer in /usr/sbin, which is not on every PATH.
PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
# The off-site copy's client, from Debian; the S3 server it talks to is moto's, from PyPI.
RCLONE = shutil.which("rclone")
# Debian keeps RabbitMQ's scripts in /usr/lib/rabbitmq/bin (and the server in /usr/sbin).
RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")

OPT_OUT = "SHIPYARD_SKIP_REAL_SERVERS"
"""Set to 1 to skip, rather than fail, the tests whose server is not installed."""


@dataclass(frozen=True)
class RealServer:
    title: str
    package: str
    """The Debian package, as tools/ensure-servers.sh installs it."""
    installed: Callable[[], bool]


# Looked up when a test starts, so a test can take a server away.
SERVERS = {
    "postgresql": RealServer("PostgreSQL", "postgresql", lambda: POSTGRES_BIN is not None and PSQL is not None),
    "pgbouncer": RealServer("PgBouncer", "pgbouncer", lambda: PGBOUNCER is not None),
    "redis": RealServer("redis-server", "redis-server", lambda: REDIS_SERVER is not None),
    "rclone": RealServer("rclone", "rclone", lambda: RCLONE is not None),
    "rabbitmq": RealServer("rabbitmq-server", "rabbitmq-server", lambda: (RABBITMQ_BIN / "rabbitmq-server").exists()),
}

needs_postgres = pytest.mark.real_server("postgresql")
needs_pgbouncer = pytest.mark.real_server("pgbouncer")
needs_redis = pytest.mark.real_server("redis")
needs_rclone = pytest.mark.real_server("rclone")
needs_rabbitmq = pytest.mark.real_server("rabbitmq")


def opted_out() -> bool:
    return os.environ.get(OPT_OUT, "").strip().lower() not in ("", "0", "false", "no")


def install_command(packages: list[str]) -> str:
    sudo = "" if os.geteuid() == 0 else "sudo "
    return f"{sudo}apt-get update && {sudo}apt-get install -y {' '.join(packages)}"


def require(name: str) -> None:
    """Fail (or, opted out, skip) the running test unless server `name` is installed."""
    server = SERVERS[name]
    if server.installed():
        return
    if opted_out():
        pytest.skip(f"{server.title} is not installed and {OPT_OUT} is set")
    pytest.fail(
        f"{server.title} is not installed; this test runs it for real. Install it with:\n"
        f"    {install_command([server.package])}\n"
        f"(`make test` does this itself when run as root), or skip the real-server tests "
        f"explicitly: {OPT_OUT}=1 make test",
        pytrace=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root; run as the Debian package's postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def wait_for(check, what: str, seconds: float = 30) -> None:
    """Poll `check` until it is true; `what` names the awaited state in the timeout error."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise TimeoutError(f"{what}: not within {seconds} s")


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
        wait_for(lambda: process.poll() is not None or ready(), f"{what} up")
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
