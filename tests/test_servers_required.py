"""tests/servers.py and conftest.py: a missing real server fails a test, never skips it quietly.

Only an explicit opt-out (SHIPYARD_SKIP_REAL_SERVERS=1) turns the failure into a
skip, and in CI (CI=true) a skip fails the run as well.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import servers
from tools.recording import ROOT

USES_REDIS = """
from tests.servers import needs_redis

@needs_redis
def test_uses_redis():
    pass
"""
SKIPPED_MODULE = """
import pytest

pytest.skip("not here", allow_module_level=True)

def test_never_runs():
    pass
"""


def run_pytest(tmp_path: Path, source: str, **env: str) -> subprocess.CompletedProcess:
    """pytest with the project's conftest and settings, on one small test file.

    PATH is an empty directory, so no server binary can be found on it.
    """
    test_file = tmp_path / "test_tiny.py"
    test_file.write_text(source)
    empty = tmp_path / "empty-path"
    empty.mkdir()
    base = {k: v for k, v in os.environ.items() if k not in ("CI", servers.OPT_OUT, "PYTEST_ADDOPTS")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(ROOT / "pytest.ini"),
         "--rootdir", str(ROOT), "-p", "tests.conftest", str(test_file)],
        cwd=ROOT, env={**base, "PATH": str(empty), **env}, capture_output=True, text=True, timeout=300,
    )


def test_a_missing_server_fails_the_test_with_the_install_command(tmp_path):
    result = run_pytest(tmp_path, USES_REDIS)
    # It fails while setting the test up (pytest counts that as an error), before any
    # fixture tries to start the server.
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert "redis-server is not installed" in result.stdout
    assert "apt-get install -y redis-server" in result.stdout
    assert f"{servers.OPT_OUT}=1 make test" in result.stdout


def test_a_missing_server_is_skipped_when_opted_out(tmp_path):
    result = run_pytest(tmp_path, USES_REDIS, **{servers.OPT_OUT: "1"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert servers.OPT_OUT in result.stdout  # the reason names the opt-out


def test_ci_fails_on_a_skipped_test(tmp_path):
    result = run_pytest(tmp_path, USES_REDIS, CI="true", **{servers.OPT_OUT: "1"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped in CI" in result.stdout


def test_ci_fails_on_a_module_skipped_at_collection(tmp_path):
    result = run_pytest(tmp_path, SKIPPED_MODULE, CI="true")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "every test must run in CI" in result.stdout


@pytest.mark.parametrize(("server", "attribute", "package"), [
    ("postgresql", "POSTGRES_BIN", "postgresql"),
    ("pgbouncer", "PGBOUNCER", "pgbouncer"),
    ("redis", "REDIS_SERVER", "redis-server"),
])
def test_each_server_fails_when_missing_and_skips_only_when_opted_out(monkeypatch, server, attribute, package):
    monkeypatch.delenv(servers.OPT_OUT, raising=False)
    monkeypatch.setattr(servers, attribute, None)
    with pytest.raises(pytest.fail.Exception, match=f"apt-get install -y {package}"):
        servers.require(server)
    monkeypatch.setenv(servers.OPT_OUT, "1")
    with pytest.raises(pytest.skip.Exception):
        servers.require(server)


def test_an_installed_server_needs_nothing(monkeypatch):
    monkeypatch.delenv(servers.OPT_OUT, raising=False)
    monkeypatch.setattr(servers, "REDIS_SERVER", "/usr/bin/redis-server")
    servers.require("redis")


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_opt_out_must_be_explicit(monkeypatch, value):
    monkeypatch.setenv(servers.OPT_OUT, value)
    assert not servers.opted_out()
