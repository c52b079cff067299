"""Asks the target cluster whether it serves an API group, before any resource is registered.

The monitoring objects are custom resources of the Prometheus operator. On a cluster without
its CRDs they would fail in the middle of an `up`; asked first, the program leaves them out
and says so. The cluster is the one the kubernetes provider deploys to: `kubernetes:kubeconfig`
(and `kubernetes:context`) from the stack's config, else $KUBECONFIG, else ~/.kube/config.

The answer is None ("cannot tell") under Pulumi mocks, in render mode (no cluster), and when
the cluster cannot be reached or the kubeconfig is beyond this module (an auth provider other
than certificates, tokens or an exec plugin); callers then keep the objects, as before.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime.mocks import MockMonitor

TIMEOUT_SECONDS = 5


def serves(group_version: str) -> bool | None:
    """Whether the cluster serves `group_version` (`monitoring.coreos.com/v1`), or None."""
    if isinstance(pulumi.runtime.settings.get_monitor(), MockMonitor):
        return None
    provider = pulumi.Config("kubernetes")
    # Render mode writes files and talks to no cluster (its value is a directory).
    if provider.get("renderYamlToDirectory"):
        return None
    try:
        kubeconfig = _load_kubeconfig(provider.get("kubeconfig"))
        return discover(kubeconfig, group_version, provider.get("context"))
    except (OSError, ValueError, KeyError, TypeError, subprocess.SubprocessError, yaml.YAMLError):
        return None


def _load_kubeconfig(configured: str | None) -> dict[str, Any]:
    if configured:
        # The provider takes the kubeconfig's text or a path to it.
        text = configured if "\n" in configured or configured.lstrip().startswith("{") else Path(configured).read_text()
    else:
        paths = os.environ.get("KUBECONFIG", str(Path.home() / ".kube" / "config")).split(os.pathsep)
        text = Path(paths[0]).read_text()
    return yaml.safe_load(text)


def discover(kubeconfig: dict[str, Any], group_version: str, context_name: str | None = None) -> bool | None:
    """The answer from the API server `kubeconfig`'s context points at: GET /apis/<group>/<version>."""
    context_name = context_name or kubeconfig["current-context"]
    context = _named(kubeconfig["contexts"], context_name)["context"]
    cluster = _named(kubeconfig["clusters"], context["cluster"])["cluster"]
    user = _named(kubeconfig.get("users") or [], context["user"])["user"] if context.get("user") else {}
    request = urllib.request.Request(f"{cluster['server'].rstrip('/')}/apis/{group_version}")
    with tempfile.TemporaryDirectory() as scratch:
        tls = _tls_context(cluster, user, Path(scratch))
        token = _token(user)
        if token is None and user.get("auth-provider"):
            return None
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=tls) as response:
                return response.status == 200
        except urllib.error.HTTPError as error:
            return False if error.code == 404 else None
        except (urllib.error.URLError, TimeoutError, ssl.SSLError):
            return None


def _named(entries: list[dict[str, Any]], name: str) -> dict[str, Any]:
    [entry] = [e for e in entries if e["name"] == name]
    return entry


def _tls_context(cluster: dict[str, Any], user: dict[str, Any], scratch: Path) -> ssl.SSLContext | None:
    if not cluster["server"].startswith("https://"):
        return None
    context = ssl.create_default_context()
    if cluster.get("insecure-skip-tls-verify"):
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif cluster.get("certificate-authority-data"):
        context.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())
    elif cluster.get("certificate-authority"):
        context.load_verify_locations(cafile=cluster["certificate-authority"])
    certificate = _file(user, "client-certificate", scratch / "client.crt")
    key = _file(user, "client-key", scratch / "client.key")
    if certificate and key:
        context.load_cert_chain(certificate, key)
    return context


def _file(user: dict[str, Any], field: str, scratch: Path) -> str | None:
    """A credential given inline (`<field>-data`) written to a private scratch file, or its path."""
    if user.get(f"{field}-data"):
        scratch.write_bytes(base64.b64decode(user[f"{field}-data"]))
        scratch.chmod(0o600)
        return str(scratch)
    return user.get(field)


def _token(user: dict[str, Any]) -> str | None:
    if user.get("token"):
        return user["token"]
    if user.get("tokenFile"):
        return Path(user["tokenFile"]).read_text().strip()
    plugin = user.get("exec")
    if plugin:
        # The client-go credential plugin protocol (aws eks get-token, gke-gcloud-auth-plugin, ...).
        env = {**os.environ, **{e["name"]: e["value"] for e in plugin.get("env") or []}}
        env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": plugin["apiVersion"], "kind": "ExecCredential",
                                                  "spec": {"interactive": False}})
        out = subprocess.run([plugin["command"], *(plugin.get("args") or [])], env=env, capture_output=True,
                             text=True, timeout=30, check=True).stdout
        return json.loads(out)["status"].get("token")
    return None
