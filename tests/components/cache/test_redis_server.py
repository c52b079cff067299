"""The Cache component's rendered redis.conf and ACL file, loaded by a real redis-server.

Started with exactly the rendered files; only the listen address, port, data
directory and the ACL file's path are given on the command line, to keep the test
server on loopback and in a temporary directory.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.cache import BrokerSpec, Cache, CacheArgs, CacheSpec
from components.cache.component import OBJECT_SUFFIX
from components.naming import AppIdentity
from tests.conftest import run_components
from tests.servers import free_port, needs_redis, running

pytestmark = needs_redis

SPEC = CacheSpec.model_validate(
    {"enabled": True, "maxmemory": "64mb", "maxmemoryPolicy": "allkeys-lfu",
     "persistence": {"enabled": True, "save": ["900 1", "60 10000"], "appendOnly": True}}
)


def render(spec: CacheSpec, role: str = "cache") -> dict:
    """The files a Redis pod of this role is given: redis.conf, the server and app Secrets."""
    identity = AppIdentity(name="blockscore", instance="blockscore-test")
    recording = run_components(
        lambda: Cache(role, CacheArgs(namespace="ns", identity=identity, spec=spec, clients=["web"], role=role))
    )
    name = f"blockscore-{OBJECT_SUFFIX[role]}"
    return {
        "conf": recording.one("ConfigMap", f"{name}-config")["data"]["redis.conf"],
        "server": recording.one("Secret", f"{name}-server")["stringData"],
        "app": recording.one("Secret", name)["stringData"],
    }


@contextlib.contextmanager
def redis_server(rendered: dict, base: Path) -> Iterator[int]:
    """A redis-server on loopback with exactly the rendered redis.conf and ACL file."""
    (base / "redis.conf").write_text(rendered["conf"])
    (base / "users.acl").write_text(rendered["server"]["users.acl"])
    port = free_port()
    command = ["redis-server", str(base / "redis.conf"), "--bind", "127.0.0.1", "--port", str(port),
               "--aclfile", str(base / "users.acl")]
    with running(command, lambda: "NOAUTH" in cli(port, "PING").stdout, "redis-server", cwd=base):
        yield port


@pytest.fixture(scope="module")
def rendered():
    return render(SPEC)


@pytest.fixture(scope="module")
def server(rendered, tmp_path_factory):
    with redis_server(rendered, tmp_path_factory.mktemp("redis")) as port:
        yield port


def cli(port: int, *command: str, url: str | None = None, user: str | None = None, password: str | None = None):
    target = ["-u", url] if url else ["-h", "127.0.0.1", "-p", str(port)]
    auth = (["--user", user] if user else []) + (["--pass", password] if password else [])
    return subprocess.run(
        ["redis-cli", "--no-auth-warning", *target, *auth, *command], capture_output=True, text=True, timeout=10
    )


def app_url(rendered: dict, port: int, name: str = "REDIS_URL") -> str:
    url = rendered["app"][name]
    return url.replace(url.split("@")[1].split("/")[0], f"127.0.0.1:{port}")


def exporter(rendered: dict, port: int, *command: str):
    import json

    password = json.loads(rendered["server"]["exporter.json"])["redis://127.0.0.1:6379"]
    return cli(port, *command, user="exporter", password=password)


def test_unauthenticated_commands_are_refused(server):
    assert "NOAUTH" in cli(server, "SET", "k", "v").stdout


def test_the_rendered_urls_authenticate_on_their_own_databases(rendered, server):
    for name, db in SPEC.urls.items():
        url = app_url(rendered, server, name)
        assert url.endswith(f"/{db}")
        assert cli(server, "SET", f"from-{name}", "1", url=url).stdout.strip() == "OK"
    # Each variable's keys live in its own logical database.
    assert cli(server, "EXISTS", "from-CACHE_REDIS_URL", url=app_url(rendered, server, "REDIS_URL")).stdout.strip() == "0"
    assert cli(server, "EXISTS", "from-CACHE_REDIS_URL", url=app_url(rendered, server, "CACHE_REDIS_URL")).stdout.strip() == "1"


def test_a_wrong_password_is_refused(rendered, server):
    wrong = app_url(rendered, server).replace(rendered["server"]["password"], "wrong")
    result = cli(server, "PING", url=wrong)
    assert "WRONGPASS" in result.stdout + result.stderr


def test_configured_values_are_in_force(rendered, server):
    def get(name: str) -> str:
        out = exporter(rendered, server, "CONFIG", "GET", name).stdout.split("\n")
        return out[1].strip()

    assert int(get("maxmemory")) == 64 * 2**20
    assert get("maxmemory-policy") == "allkeys-lfu"
    assert get("save") == "900 1 60 10000"
    assert get("appendonly") == "yes"
    assert get("protected-mode") == "yes"


@pytest.mark.parametrize(
    "command", [["FLUSHALL"], ["FLUSHDB"], ["CONFIG", "GET", "maxmemory"], ["CONFIG", "SET", "maxmemory", "1"], ["SHUTDOWN"], ["MONITOR"]]
)
def test_dangerous_commands_are_refused_to_the_app(rendered, server, command):
    result = cli(server, *command, url=app_url(rendered, server))
    assert "NOPERM" in result.stdout + result.stderr
    assert cli(server, "PING", url=app_url(rendered, server)).stdout.strip() == "PONG"


def test_debug_is_refused_to_the_app(rendered, server):
    # Redis 7 also refuses DEBUG by its own default; the ACL denies it in any case.
    result = cli(server, "DEBUG", "SLEEP", "0", url=app_url(rendered, server))
    assert "NOPERM" in result.stdout or "not allowed" in result.stdout


def test_the_exporter_reads_statistics_but_not_data(rendered, server):
    assert "redis_version" in exporter(rendered, server, "INFO", "server").stdout
    assert "NOPERM" in exporter(rendered, server, "GET", "k").stdout
    assert "NOPERM" in exporter(rendered, server, "SET", "k", "v").stdout


# -- the broker: a full queue refuses writes instead of dropping tasks, and keeps an AOF --------

BROKER = BrokerSpec.model_validate({"enabled": True, "maxmemory": "2mb"})


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    rendered, base = render(BROKER, role="broker"), tmp_path_factory.mktemp("broker")
    with redis_server(rendered, base) as port:
        yield rendered, port, base


def test_a_full_broker_refuses_new_tasks_and_keeps_the_queued_ones(broker):
    rendered, port, base = broker
    url = app_url(rendered, port, "CELERY_BROKER_URL")
    payload = "x" * 4096
    refused = None
    for i in range(2000):  # 8 MB at most, four times maxmemory
        result = cli(port, "RPUSH", "celery", payload, url=url)
        if "OOM" in result.stdout + result.stderr:
            refused = i
            break
    assert refused is not None, "the broker never refused a write"
    # Every task queued before it was full is still there: nothing was evicted.
    assert int(cli(port, "LLEN", "celery", url=url).stdout) == refused


def test_the_broker_logs_every_write(broker):
    rendered, port, base = broker
    url = app_url(rendered, port, "CELERY_BROKER_URL")
    cli(port, "DEL", "celery", url=url)  # room again, whatever ran before
    assert cli(port, "SET", "task-meta", "1", url=url).stdout.strip() == "OK"
    aof = list(base.glob("appendonlydir/*.incr.aof")) + list(base.glob("appendonly.aof"))
    assert aof and any(b"task-meta" in f.read_bytes() for f in aof)
