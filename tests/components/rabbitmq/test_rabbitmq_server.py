"""The RabbitMQ component's rendered files, loaded by a real rabbitmq-server from Debian.

The node starts from exactly the rendered settings, credentials and plugin list, in one
config directory as in the pod (RABBITMQ_CONFIG_FILES); a last file of the test's own moves
its ports to free ones on loopback, and the node's data, Erlang port mapper and cookie go
to a scratch directory. Then what the app and the alerts rely on is checked against it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.naming import AppIdentity
from components.rabbitmq import RabbitMQ, RabbitMQArgs, RabbitMQSpec
from components.rabbitmq import config as rabbit_config
from tests.conftest import run_components
from tests.servers import RABBITMQ_BIN, free_port, needs_rabbitmq, wait_for

pytestmark = needs_rabbitmq

SPEC = RabbitMQSpec.model_validate({"enabled": True, "user": "flowlet", "vhost": "flowlet", "diskFreeLimit": "50MB",
                                    "resources": {"requests": {"cpu": "100m", "memory": "256Mi"},
                                                  "limits": {"cpu": "1", "memory": "512Mi"}}})


@pytest.fixture(scope="module")
def rendered() -> dict:
    identity = AppIdentity(name="flowlet", instance="flowlet-test")
    recording = run_components(lambda: RabbitMQ("rabbitmq", RabbitMQArgs(
        namespace="ns", identity=identity, spec=SPEC, clients=["web"])))
    return {
        "config": recording.one("ConfigMap", "flowlet-rabbitmq-config")["data"],
        "server": recording.one("Secret", "flowlet-rabbitmq-server")["stringData"],
        "app": recording.one("Secret", "flowlet-rabbitmq")["stringData"],
    }


@contextlib.contextmanager
def rabbitmq_node(rendered: dict, base: Path) -> Iterator[dict]:
    conf = base / "conf"
    conf.mkdir()
    (conf / rabbit_config.SETTINGS_FILE).write_text(rendered["config"][rabbit_config.SETTINGS_FILE])
    (conf / rabbit_config.CREDENTIALS_FILE).write_text(rendered["server"][rabbit_config.CREDENTIALS_FILE])
    ports = {"amqp": free_port(), "management": free_port(), "metrics": free_port(), "dist": free_port(),
             "epmd": free_port()}
    # Read last: only the listeners move, everything else is as rendered.
    (conf / "99-test-ports.conf").write_text(
        f"listeners.tcp.default = {ports['amqp']}\nmanagement.tcp.port = {ports['management']}\n"
        f"prometheus.tcp.port = {ports['metrics']}\n")
    (base / "enabled_plugins").write_text(rendered["config"]["enabled_plugins"])
    home = base / "home"
    home.mkdir()
    cookie = home / ".erlang.cookie"
    cookie.write_text(rendered["server"]["erlang-cookie"])
    cookie.chmod(0o400)
    env = {**os.environ, "HOME": str(home), "RABBITMQ_CONFIG_FILES": str(conf),
           "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"), "RABBITMQ_NODENAME": f"shipyard-{ports['amqp']}@localhost",
           "RABBITMQ_MNESIA_BASE": str(base / "mnesia"), "RABBITMQ_LOG_BASE": str(base / "log"), "RABBITMQ_LOGS": "-",
           "RABBITMQ_PID_FILE": str(base / "pid"), "RABBITMQ_PLUGINS_EXPAND_DIR": str(base / "plugins"),
           "RABBITMQ_FEATURE_FLAGS_FILE": str(base / "feature_flags"), "RABBITMQ_DIST_PORT": str(ports["dist"]),
           "ERL_EPMD_PORT": str(ports["epmd"])}
    log = (base / "server.log").open("w")
    process = subprocess.Popen([str(RABBITMQ_BIN / "rabbitmq-server")], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    node = {"ports": ports, "env": env, "base": base}
    try:
        wait_for(lambda: process.poll() is not None or "Server startup complete" in (base / "server.log").read_text(),
                 "rabbitmq-server up", seconds=120)
        assert process.poll() is None, (base / "server.log").read_text()
        yield node
    finally:
        subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "shutdown"], env=env, capture_output=True, timeout=60)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        if process.poll() is None:
            os.killpg(process.pid, 9)
        # The port mapper the node started for its own port outlives it.
        subprocess.run(["epmd", "-port", str(ports["epmd"]), "-kill"], capture_output=True)
        log.close()


@pytest.fixture(scope="module")
def node(rendered) -> Iterator[dict]:
    base = Path(tempfile.mkdtemp(prefix="shipyard-rabbitmq-"))
    try:
        with rabbitmq_node(rendered, base) as running:
            yield running
    finally:
        shutil.rmtree(base, ignore_errors=True)


def api(node: dict, path: str, user: str, password: str, body: dict | None = None) -> tuple[int, object]:
    request = urllib.request.Request(f"http://127.0.0.1:{node['ports']['management']}/api/{path}",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     method="POST" if body is not None else "GET")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def app_credentials(rendered: dict) -> tuple[str, str]:
    url = rendered["app"]["RABBITMQ_URL"]
    user, password = url.removeprefix("amqp://").split("@", 1)[0].split(":", 1)
    return user, password


def test_the_apps_url_logs_in_to_its_own_vhost_with_every_permission(node, rendered):
    user, password = app_credentials(rendered)
    assert rendered["app"]["RABBITMQ_URL"].endswith(":5672/flowlet")
    status, me = api(node, "whoami", user, password)
    assert status == 200 and me["name"] == "flowlet" and me["tags"] == ["management"]
    listed = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "list_permissions", "--vhost", "flowlet", "--quiet",
                             "--no-table-headers"], env=node["env"], capture_output=True, text=True, timeout=60)
    assert listed.stdout.split() == ["flowlet", ".*", ".*", ".*"], listed.stdout + listed.stderr
    # The management tag shows the UI its own vhost only; administration stays closed.
    assert api(node, "users", user, password)[0] == 401


def test_there_is_no_guest_user_and_a_wrong_password_is_refused(node, rendered):
    user, _ = app_credentials(rendered)
    assert api(node, "whoami", "guest", "guest")[0] == 401
    assert api(node, "whoami", user, "not-the-password")[0] == 401


def test_a_message_published_to_a_durable_queue_is_delivered(node, rendered):
    user, password = app_credentials(rendered)
    assert api(node, "queues/flowlet/jobs", user, password)[0] == 404
    request = urllib.request.Request(f"http://127.0.0.1:{node['ports']['management']}/api/queues/flowlet/jobs",
                                     data=json.dumps({"durable": True}).encode(), method="PUT")
    request.add_header("Authorization", "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode())
    request.add_header("Content-Type", "application/json")
    assert urllib.request.urlopen(request, timeout=10).status in (201, 204)
    status, routed = api(node, "exchanges/flowlet/amq.default/publish", user, password,
                         {"properties": {"delivery_mode": 2}, "routing_key": "jobs", "payload": "hello",
                          "payload_encoding": "string"})
    assert status == 200 and routed == {"routed": True}
    status, messages = api(node, "queues/flowlet/jobs/get", user, password,
                           {"count": 1, "ackmode": "ack_requeue_false", "encoding": "auto"})
    assert status == 200 and [m["payload"] for m in messages] == ["hello"]


def test_the_memory_and_disk_alarms_are_the_configured_ones(node):
    status = subprocess.run([str(RABBITMQ_BIN / "rabbitmqctl"), "status", "--formatter", "json"], env=node["env"],
                            capture_output=True, text=True, timeout=60)
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    # 0.4 of the container's 512Mi limit, not of the machine's memory.
    assert info["vm_memory_high_watermark_limit"] == int(0.4 * 512 * 2**20)
    assert info["disk_free_limit"] == 50_000_000
    assert info["alarms"] == []


def test_the_metrics_the_alerts_read_are_served(node):
    with urllib.request.urlopen(f"http://127.0.0.1:{node['ports']['metrics']}/metrics", timeout=10) as response:
        metrics = response.read().decode()
    for name in ("rabbitmq_alarms_memory_used_watermark", "rabbitmq_alarms_free_disk_space_watermark"):
        assert f"\n{name} 0" in metrics, name


def test_the_liveness_command_answers_with_the_rendered_cookie(node):
    env = node["env"]
    ping = subprocess.run([str(RABBITMQ_BIN / "rabbitmq-diagnostics"), "-q", "ping"], env=env,
                          capture_output=True, text=True, timeout=60)
    assert ping.returncode == 0, ping.stdout + ping.stderr
    wrong = {**env, "HOME": str(node["base"])}  # no cookie there: another cookie is made, and refused
    refused = subprocess.run([str(RABBITMQ_BIN / "rabbitmq-diagnostics"), "-q", "ping"], env=wrong,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
