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

from stack_config import ConfigError
from tools.recording import ROOT

PLACEHOLDER_SECRET = "placeholder-secret-for-offline-rendering"
# Where Pulumi.<stack>.yaml files are looked up; a test points it at a temporary directory.
STACKS_DIR = ROOT


def project() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "Pulumi.yaml").read_text())


def stack_names() -> list[str]:
    return sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in STACKS_DIR.glob("Pulumi.*.yaml"))


def stack_file(stack: str) -> Path:
    return STACKS_DIR / f"Pulumi.{stack}.yaml"


def config_for(stack: str, overrides: dict[str, Any] | None = None) -> tuple[dict[str, str], list[str]]:
    """(config, secret keys) for a stack, with `overrides` (namespaced keys) applied last.

    A stack file that is not YAML, or not shaped like a stack file, raises `ConfigError`
    naming the file (and where it could be, the line and column), as bad values do.
    """
    path = stack_file(stack)
    values = _stack_values(path, stack) if path.exists() else {}
    return config_from(values, overrides)


def _stack_values(path: Path, stack: str) -> dict[str, Any]:
    """The `config:` mapping of a stack file."""
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as error:
        # The user's mistake, not the program's: one line, not the parser's traceback.
        raise ConfigError(stack, [f"{_where(path, error)}: not valid YAML: {_yaml_problem(error)}"]) from None
    problems = _shape_problems(path.name, document)
    if problems:
        raise ConfigError(stack, problems)
    return (document or {}).get("config") or {}


def _where(path: Path, error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    if mark is None:
        return path.name
    # The parser counts from 0; editors count from 1.
    return f"{path.name}, line {mark.line + 1}, column {mark.column + 1}"


def _yaml_problem(error: yaml.YAMLError) -> str:
    if not isinstance(error, yaml.MarkedYAMLError) or error.problem is None:
        return " ".join(str(error).split())
    problem = error.problem
    context, mark = error.context, error.context_mark
    if context and mark is not None:
        problem += f" ({context} at line {mark.line + 1}, column {mark.column + 1})"
    return problem


def _shape_problems(name: str, document: Any) -> list[str]:
    """What makes a parsed stack file unusable as one: it must map `config` to `namespace:key` values."""
    if document is None:
        return []
    if not isinstance(document, dict):
        return [f"{name}: must be a mapping with a `config:` key, not {_kind(document)}"]
    config = document.get("config")
    if config is None:
        return []
    if not isinstance(config, dict):
        return [f"{name}: config must be a mapping of `namespace:key: value`, not {_kind(config)}"]
    return [f"{name}: config key {key!r} is not a `namespace:key` name" for key in config if not isinstance(key, str)]


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), type(value).__name__
    )


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
