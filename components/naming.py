"""Kubernetes object names and the standard `app.kubernetes.io/*` labels."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

MAX_NAME = 63
_LABEL_VALUE_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def k8s_name(*parts: str) -> str:
    """Join parts into a DNS-1123 label of at most 63 characters.

    A name that would be longer keeps its start and gets a short hash of the whole,
    so two long names that share a prefix still differ.
    """
    name = "-".join(p.strip("-") for p in parts if p).lower()
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - len(digest) - 1].rstrip('-')}-{digest}"


def label_value(text: str) -> str:
    """A string made safe for a label value (63 characters, alphanumeric at both ends)."""
    return _LABEL_VALUE_UNSAFE.sub("-", text)[:MAX_NAME].strip("-._")


@dataclass(frozen=True, kw_only=True)
class AppIdentity:
    """Who an object belongs to, as the `app.kubernetes.io/*` labels say it."""

    name: str
    """The application, e.g. `blockscore` (app.kubernetes.io/name)."""
    instance: str
    """This deployment of it, unique per stack, e.g. `blockscore-prod`."""
    version: str = ""
    """The application version, usually the image tag; left out when empty."""
    part_of: str = ""
    """The larger system it belongs to; defaults to the application name."""

    def app_selector(self) -> dict[str, str]:
        """Labels every pod of this deployment carries, whatever its component."""
        return {"app.kubernetes.io/name": self.name, "app.kubernetes.io/instance": self.instance}

    def selector(self, component: str) -> dict[str, str]:
        """Labels that pick out one component's pods.

        Only values that never change for the life of the workload: a Deployment's
        selector is immutable, so a version here would block every upgrade.
        """
        return {**self.app_selector(), "app.kubernetes.io/component": component}

    def labels(self, component: str) -> dict[str, str]:
        """The full recommended label set for one component's objects."""
        labels = {
            **self.selector(component),
            "app.kubernetes.io/part-of": self.part_of or self.name,
            "app.kubernetes.io/managed-by": "pulumi",
        }
        if self.version:
            labels["app.kubernetes.io/version"] = label_value(self.version)
        return labels
