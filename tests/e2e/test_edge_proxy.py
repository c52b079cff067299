"""A real Traefik enforces what a stack's edge config says.

The loan-lifecycle stack's edge objects (Gateway, HTTPRoutes, Middlewares), as `make
render` gives them, and bike-lifecycle's (a rate of its own on each host), are applied
to the local control plane, which has the Gateway API and
Traefik CRDs (tools/cluster/). Traefik (built by tools/edge/build.sh) reads them from there with its
Gateway API provider, listening on loopback, in front of a small test server.

What is changed, and why:
- the Gateway's listener ports are free loopback ports (stack config, as a user sets
  them), since the test must not take 8000 and 8443;
- the routes' backend is the test server, named as a Traefik file-provider service
  (`web@file`): the simulated nodes run no pods, and the API server refuses loopback
  endpoints;
- the certificates cert-manager would issue are self-signed ones made here.
Traffic goes to 127.0.0.1 only, in bounded loops.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml

from tests.e2e.conftest import kubectl
from tests.servers import free_port, wait_for
from tools import engine_run
from tools.recording import run_program
from tools.stacks import config_for, stack_file

pytestmark = pytest.mark.e2e

HOST = "api.loans.example.com"
BIKE_API, BIKE_SITE = "api.bikes.example.com", "bikes.example.com"
ORIGIN = "https://loans.example.com"
EDGE_KINDS = {"Gateway", "HTTPRoute", "Middleware"}


class Echo(http.server.BaseHTTPRequestHandler):
    """Answers 200 with what it received; the proxy's answers are whatever is not 200."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.dumps({"method": self.command, "path": self.path, "bytes": len(self.rfile.read(length))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_OPTIONS = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def backend() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()


def edge_objects(stack: str, namespace: str, http_port: int, https_port: int) -> list[dict[str, Any]]:
    """The stack's edge objects as `make render` gives them, with its Gateway on `http_port`
    and `https_port` and its backend the test server."""
    edge = yaml.safe_load(stack_file(stack).read_text())["config"]["shipyard:edge"]
    edge["gateway"] = {**edge.get("gateway", {}), "httpPort": http_port, "httpsPort": https_port}
    config, secret_keys = config_for(stack, {"shipyard:namespace": namespace, "shipyard:edge": edge})
    manifests = [r.inputs for r in run_program(stack, config, secret_keys=secret_keys).kubernetes_objects()]
    objects = [m for m in manifests if m["kind"] in EDGE_KINDS]
    for route in (m for m in objects if m["kind"] == "HTTPRoute"):
        for rule in route["spec"]["rules"]:
            if "backendRefs" in rule:
                rule["backendRefs"] = [{"group": "traefik.io", "kind": "TraefikService", "name": "web@file"}]
    return objects


@pytest.fixture(scope="module")
def proxy(environment, backend, tmp_path_factory) -> Iterator[dict[str, int]]:
    yield from serve("loan-lifecycle", environment, backend, tmp_path_factory)


@pytest.fixture(scope="module")
def bike_proxy(environment, backend, tmp_path_factory) -> Iterator[dict[str, int]]:
    yield from serve("bike-lifecycle", environment, backend, tmp_path_factory)


def serve(stack: str, environment: dict[str, str], backend: int, tmp_path_factory) -> Iterator[dict[str, int]]:
    """Traefik on loopback, serving `stack`'s edge objects in a namespace of their own."""
    traefik = engine_run.tool_dir("tools/edge/versions.sh", "TRAEFIK_BIN")
    if not traefik.exists():
        pytest.fail(f"not built: {traefik}; run `make e2e` (it builds the proxy first)")
    work = tmp_path_factory.mktemp("edge")
    namespace = f"edge-proof-{free_port()}"
    http_port, https_port = free_port(), free_port()
    objects = edge_objects(stack, namespace, http_port, https_port)
    [gateway] = [o for o in objects if o["kind"] == "Gateway"]
    # What cert-manager would have put in each listener's Secret.
    secrets = {ref["name"]: listener["hostname"] for listener in gateway["spec"]["listeners"]
               for ref in (listener.get("tls") or {}).get("certificateRefs", [])}
    class_name = gateway["spec"]["gatewayClassName"]
    manifest = work / "edge.yaml"
    manifest.write_text(yaml.safe_dump_all([
        {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "GatewayClass", "metadata": {"name": class_name},
         "spec": {"controllerName": "traefik.io/gateway-controller"}},
        *objects,
    ]))
    kubectl(environment, "create", "namespace", namespace)
    for secret_name, host in secrets.items():
        key, cert = work / f"{host}.key", work / f"{host}.crt"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                        "-days", "1", "-subj", f"/CN={host}", "-addext", f"subjectAltName=DNS:{host}",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
        kubectl(environment, "-n", namespace, "create", "secret", "tls", secret_name, f"--cert={cert}", f"--key={key}")
    kubectl(environment, "apply", "-f", str(manifest))

    (work / "backend.yaml").write_text(yaml.safe_dump({"http": {"services": {"web": {"loadBalancer": {
        "servers": [{"url": f"http://127.0.0.1:{backend}"}]}}}}}))
    command = [
        str(traefik),
        f"--entryPoints.web.address=127.0.0.1:{http_port}",
        f"--entryPoints.websecure.address=127.0.0.1:{https_port}",
        "--providers.kubernetesGateway=true",
        f"--providers.kubernetesGateway.namespaces={namespace}",
        "--providers.kubernetesCRD=true",
        f"--providers.kubernetesCRD.namespaces={namespace}",
        f"--providers.file.filename={work / 'backend.yaml'}",
        # No calls home: no version check, no anonymous usage statistics.
        "--global.checkNewVersion=false",
        "--global.sendAnonymousUsage=false",
        "--log.level=INFO",
    ]
    log = (work / "traefik.log").open("w")
    process = subprocess.Popen(command, env={**environment}, stdout=log, stderr=subprocess.STDOUT)
    try:
        ports = {"http": http_port, "https": https_port}
        first_host = next(iter(secrets.values()))
        wait_for(lambda: process.poll() is not None or request(ports, "GET", "/health", host=first_host)[0] == 200,
                 "Traefik serving the routes", seconds=60)
        assert process.poll() is None, (work / "traefik.log").read_text()[-4000:]
        yield ports
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        kubectl(environment, "delete", "namespace", namespace, "--wait=false", check=False)
        kubectl(environment, "delete", "gatewayclass", class_name, "--ignore-not-found", check=False)


def request(ports: dict[str, int], method: str, path: str, *, secure: bool = True, headers: dict[str, str] | None = None,
            body: bytes | None = None, host: str = HOST) -> tuple[int, dict[str, str]]:
    """One request through the proxy, by name as a browser would; (status, response headers)."""
    port = ports["https" if secure else "http"]
    url = f"{'https' if secure else 'http'}://{host}:{port}{path}"
    command = ["curl", "--silent", "--show-error", "--insecure", "--max-time", "10", "--output", "/dev/null",
               "--dump-header", "-", "--resolve", f"{host}:{port}:127.0.0.1", "--request", method, url]
    for name, value in (headers or {}).items():
        command += ["--header", f"{name}: {value}"]
    if body is not None:
        command += ["--data-binary", "@-", "--header", "Content-Type: application/octet-stream"]
    result = subprocess.run(command, input=body, capture_output=True, timeout=20)
    # A proxy that refuses a body may close the connection while curl still sends it:
    # curl then fails, but the answer it read before is the one to judge.
    lines = result.stdout.decode("latin-1").split("\r\n")
    if not lines[0].startswith("HTTP/"):
        return 0, {}
    status = int(lines[0].split()[1])
    found = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if value:
            found[name.strip().lower()] = value.strip()
    return status, found


def test_plain_http_is_redirected_to_https(proxy):
    status, headers = request(proxy, "GET", "/loans?page=2", secure=False)
    assert status == 301
    assert headers["location"].startswith(f"https://{HOST}")
    assert headers["location"].endswith("/loans?page=2")


def test_https_answers_with_hsts_and_the_security_headers(proxy):
    status, headers = request(proxy, "GET", "/health")
    assert status == 200
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_cors_admits_only_the_configured_origins(proxy):
    preflight = {"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    status, headers = request(proxy, "OPTIONS", "/loans", headers=preflight)
    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
    assert headers["access-control-allow-credentials"] == "true"
    _, headers = request(proxy, "OPTIONS", "/loans", headers={**preflight, "Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in headers


def test_bodies_over_the_limit_get_413_from_the_proxy(proxy):
    limit = 10 * 2**20
    assert request(proxy, "POST", "/documents", body=b"x" * 1024)[0] == 200
    assert request(proxy, "POST", "/documents", body=b"x" * (limit + 1))[0] == 413


def test_the_rate_limit_answers_429_past_its_rate(proxy):
    # 60 a minute with a burst of 20, per client: 60 requests as fast as curl goes
    # (each a new process, many a second) must meet the limit after the burst.
    statuses = [request(proxy, "GET", "/loans")[0] for _ in range(60)]
    assert set(statuses) == {200, 429}, statuses
    # At most the burst plus a token a second passes; the earlier tests took a few.
    assert 5 <= statuses.count(200) <= 30, statuses
    assert statuses[0] == 200, statuses


def timed(send: Callable[[], int], count: int) -> tuple[list[int], float]:
    """`count` requests one after another: their statuses and the seconds they took."""
    start = time.monotonic()
    statuses = [send() for _ in range(count)]
    return statuses, time.monotonic() - start


def test_each_host_has_its_own_rate(bike_proxy):
    # The frontend's host allows bursts of 50: fifty requests in a row all pass, however fast.
    site, _ = timed(lambda: request(bike_proxy, "GET", "/", host=BIKE_SITE)[0], 50)
    assert site == [200] * 50, site
    # The API's host allows 10 a second with bursts of 20: no more than that passes, and
    # sixty in a row faster than the rate refills meet 429.
    api, seconds = timed(lambda: request(bike_proxy, "GET", "/bikes", host=BIKE_API)[0], 60)
    assert set(api) <= {200, 429} and api[0] == 200, api
    assert api.count(200) <= 20 + 10 * seconds + 1, (api, seconds)
    if seconds < 60 / 10 - 2:
        assert 429 in api, (api, seconds)
    # Outside the limits: the API's /health and the frontend's assets.
    assert request(bike_proxy, "GET", "/health", host=BIKE_API)[0] == 200
    assert request(bike_proxy, "GET", "/_next/static/app.js", host=BIKE_SITE)[0] == 200
