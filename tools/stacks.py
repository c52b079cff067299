"""Stack config as the Pulumi engine would hand it to the program.

Reads the defaults declared in Pulumi.yaml and the values in Pulumi.<stack>.yaml,
and turns them into the `namespace:key` -> text map a program receives (objects as
JSON). Encrypted values cannot be read without the stack's passphrase, so they are
replaced by a placeholder that is still marked secret.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tools.recording import ROOT

PLACEHOLDER_SECRET = "placeholder-secret-for-offline-rendering"


def project() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in ROOT.glob("Pulumi.*.yaml"))


def stack_file(stack: str) -> Path:
    return ROOT / f"Pulumi.{stack}.yaml"


def config_for(stack: str, overrides: dict[str, Any] | None = None) -> tuple[dict[str, str], list[str]]:
    """(config, secret keys) for a stack, with `overrides` (namespaced keys) applied last."""
    path = stack_file(stack)
    values = {}
    if path.exists():
        values = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    return config_from(values, overrides)


def config_from(values: dict[str, Any], overrides: dict[str, Any] | None = None) -> tuple[dict[str, str], list[str]]:
    """(config, secret keys) from stack-file values: project defaults, then `values`, then `overrides`."""
    name = project()["name"]
    merged: dict[str, Any] = {}
    for key, declaration in (project().get("config") or {}).items():
        if isinstance(declaration, dict) and "default" in declaration:
            merged[f"{name}:{key}"] = declaration["default"]
    merged.update(values)
    merged.update(overrides or {})

    config, secret_keys = {}, []
    for key, value in merged.items():
        plain, secret = _decrypt_placeholders(value)
        config[key] = _as_text(plain)
        if secret:
            secret_keys.append(key)
    return config, secret_keys


def _decrypt_placeholders(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return PLACEHOLDER_SECRET, True
    if isinstance(value, dict):
        pairs = {k: _decrypt_placeholders(v) for k, v in value.items()}
        return {k: v for k, (v, _) in pairs.items()}, any(s for _, s in pairs.values())
    if isinstance(value, list):
        pairs = [_decrypt_placeholders(v) for v in value]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    return value, False


def _as_text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
