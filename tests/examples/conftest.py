"""The example systems' requirement tests: each checks one production guide's asks, one by
one, against the objects its stack renders (each assertion names the guide's section)."""

from __future__ import annotations

from typing import Any

import pytest

from tools import render


class Rendered:
    """A stack's rendered objects, looked up by kind and name."""

    def __init__(self, stack: str):
        self.stack = stack
        self.recording = render.render(stack)
        self.objects = [r.inputs for r in self.recording.kubernetes_objects()]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def one(self, kind: str, name: str) -> dict[str, Any]:
        [found] = [o for o in self.all(kind) if o["metadata"]["name"] == name] or [None]
        assert found is not None, f"no {kind} {name} in stack {self.stack}"
        return found

    def container(self, kind: str, name: str, container: str | None = None) -> dict[str, Any]:
        spec = self.one(kind, name)["spec"]
        if kind == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        pod = spec["template"]["spec"]
        containers = [*(pod.get("initContainers") or []), *pod["containers"]]
        return containers[-1] if container is None else next(c for c in containers if c["name"] == container)

    def env(self, kind: str, name: str, container: str) -> dict[str, str]:
        return {e["name"]: e.get("value") for e in self.container(kind, name, container).get("env") or []}

    def secret_keys(self, name: str) -> set[str]:
        secret = self.one("Secret", name)
        return set(secret.get("stringData") or secret.get("data") or {})

    def postgresql_conf(self, config_map: str) -> dict[str, str]:
        lines = self.one("ConfigMap", config_map)["data"]["postgresql.conf"].splitlines()
        pairs = (line.split("=", 1) for line in lines if "=" in line and not line.lstrip().startswith("#"))
        return {key.strip(): value.strip().strip("'") for key, value in pairs}

    def response_headers(self, route: str) -> dict[str, str]:
        filters = [f for rule in self.one("HTTPRoute", route)["spec"]["rules"] for f in rule.get("filters") or []]
        return {h["name"]: h["value"] for f in filters if f["type"] == "ResponseHeaderModifier"
                for h in f["responseHeaderModifier"]["set"]}

    def rate_limit(self, policy: str) -> dict[str, Any]:
        [rule] = self.one("BackendTrafficPolicy", policy)["spec"]["rateLimit"]["global"]["rules"]
        return rule["limit"]


@pytest.fixture(scope="module")
def stack(request: pytest.FixtureRequest) -> Rendered:
    """The rendered objects of the test module's STACK."""
    return Rendered(request.module.STACK)
