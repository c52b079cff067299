"""cluster_api.py: asking the cluster whether it serves an API group, with the kubeconfig's
own credentials, against a small API server on loopback; and what the program does with
the answer."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pulumi
import pytest

import cluster_api
from tests.conftest import run_stack

GROUP = "monitoring.coreos.com/v1"


class FakeApiServer(BaseHTTPRequestHandler):
    served: set[str] = set()
    token: str | None = None
    seen: list[dict] = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        FakeApiServer.seen.append({"path": self.path, "authorization": self.headers.get("Authorization")})
        if self.token and self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
        elif self.path.removeprefix("/apis/") in self.served:
            self.send_response(200)
        else:
            self.send_response(404)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def api():
    server = HTTPServer(("127.0.0.1", 0), FakeApiServer)
    FakeApiServer.served, FakeApiServer.token, FakeApiServer.seen = set(), None, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def kubeconfig(server: str, user: dict | None = None) -> dict:
    return {
        "current-context": "test",
        "contexts": [{"name": "other", "context": {"cluster": "nowhere", "user": "u"}},
                     {"name": "test", "context": {"cluster": "local", "user": "u"}}],
        "clusters": [{"name": "local", "cluster": {"server": server}},
                     {"name": "nowhere", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": user or {}}],
    }


def test_a_served_group_and_a_missing_one(api):
    FakeApiServer.served = {GROUP}
    assert cluster_api.discover(kubeconfig(api), GROUP) is True
    assert cluster_api.discover(kubeconfig(api), "gateway.networking.k8s.io/v1") is False
    assert [s["path"] for s in FakeApiServer.seen] == [f"/apis/{GROUP}", "/apis/gateway.networking.k8s.io/v1"]


def test_the_context_named_is_the_one_asked(api):
    assert cluster_api.discover(kubeconfig(api), GROUP, context_name="other") is None  # unreachable: cannot tell


def test_a_bearer_token_and_an_exec_plugin_authenticate(api, tmp_path):
    FakeApiServer.served, FakeApiServer.token = {GROUP}, "s3cret"
    assert cluster_api.discover(kubeconfig(api, {"token": "s3cret"}), GROUP) is True
    # Refused credentials are not an answer about the group.
    assert cluster_api.discover(kubeconfig(api, {"token": "wrong"}), GROUP) is None
    plugin = tmp_path / "get-token"
    plugin.write_text(f"#!{sys.executable}\nimport json, os\n"
                      "assert json.loads(os.environ['KUBERNETES_EXEC_INFO'])['kind'] == 'ExecCredential'\n"
                      "print(json.dumps({'status': {'token': os.environ['TOKEN']}}))\n")
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "env": [{"name": "TOKEN", "value": "s3cret"}]}}
    assert cluster_api.discover(kubeconfig(api, user), GROUP) is True


def test_under_mocks_the_cluster_is_never_asked(api, monkeypatch, tmp_path):
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps(kubeconfig(api)))
    monkeypatch.setenv("KUBECONFIG", str(config))
    recording = run_stack(monitoring={"enabled": True})
    assert FakeApiServer.seen == []
    assert recording.find("PrometheusRule")


def test_without_the_operator_monitoring_is_left_out_and_the_program_says_why(monkeypatch):
    warnings: list[str] = []
    monkeypatch.setattr(cluster_api, "serves", lambda group: False if group == GROUP else None)
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warnings.append(message))
    recording = run_stack(monitoring={"enabled": True, "app": {"enabled": True}})
    assert recording.find("ServiceMonitor") == [] and recording.find("PrometheusRule") == []
    assert recording.find("ConfigMap", "shop-dashboard") == []
    assert len(recording.one("NetworkPolicy", "shop-web-ingress")["spec"]["ingress"]) == 1  # nobody scrapes
    [warning] = warnings
    assert "does not serve monitoring.coreos.com/v1" in warning and "addons.prometheusStack.enabled" in warning
    # The stack that installs the operator does not ask, and gets everything.
    installed = run_stack(monitoring={"enabled": True}, addons={"prometheusStack": {"enabled": True}})
    assert installed.find("PrometheusRule")


def test_render_mode_asks_no_cluster(api, monkeypatch, tmp_path):
    """As the real engine runs the program with `kubernetes:renderYamlToDirectory` set to a directory."""
    config = tmp_path / "kubeconfig"
    config.write_text(json.dumps(kubeconfig(api)))
    monkeypatch.setenv("KUBECONFIG", str(config))
    monkeypatch.setattr(pulumi.runtime.settings, "get_monitor", lambda: None)
    pulumi.runtime.set_config("kubernetes:renderYamlToDirectory", str(tmp_path / "rendered"))
    try:
        assert cluster_api.serves(GROUP) is None
        assert FakeApiServer.seen == []
        pulumi.runtime.set_config("kubernetes:renderYamlToDirectory", "")
        FakeApiServer.served = {GROUP}
        assert cluster_api.serves(GROUP) is True  # and otherwise the cluster is asked
    finally:
        pulumi.runtime.config.CONFIG.get().pop("kubernetes:renderYamlToDirectory", None)
