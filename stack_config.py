"""Stack config, parsed once into typed values and checked as a whole.

`load()` reads every key of the stack (after Pulumi has applied the defaults
declared in Pulumi.yaml), validates it against `StackConfig`, and either returns the
frozen result or raises one `ConfigError` that lists every problem by key. It runs
before any resource is registered, so bad config never half-deploys.
"""

from __future__ import annotations

import difflib
import itertools
import json
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path

import pulumi
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import ErrorDetails

from components.addons import AddonsSpec
from components.addons.charts import local_chart_problem
from components.backend.spec import AppSpec
from components.cache import BrokerSpec, CacheSpec
from components.database import DatabaseSpec
from components.edge import EdgeSpec
from components.edge.spec import FRONTEND_SERVICE
from components.frontend import FrontendSpec
from components.monitoring import MonitoringSpec
from components.network import NetworkSpec
from components.rabbitmq import RabbitMQSpec
from components.secrets import SecretsSpec
from components.spec import DNS_LABEL, Environment, Spec, rule_error, spec_type

PROJECT = "shipyard"
# Config namespaces that belong to the providers this program uses; any other
# namespace is most likely a misspelt project name.
PROVIDER_NAMESPACES = frozenset({"kubernetes", "random", "docker", "pulumi"})
# Fields that hold credentials (dotted paths inside a key): their top-level key must be
# stored encrypted.
SECRET_FIELDS = {
    "secrets": ("values",),
    "database": ("url", "backup.offsite.accessKeyId", "backup.offsite.secretAccessKey"),
    "cache": ("url",),
    "broker": ("url",),
}


class StackConfig(Spec):
    """Everything a stack can set under the project's config namespace.

    Top-level keys get their defaults from Pulumi.yaml (so the engine shows and
    applies them); nested defaults live on the specs.
    """

    environment: Environment
    namespace: str = Field(pattern=f"({DNS_LABEL})|^$", max_length=63)
    app: AppSpec
    frontend: FrontendSpec | None = None
    network: NetworkSpec
    secrets: SecretsSpec
    database: DatabaseSpec
    cache: CacheSpec
    broker: BrokerSpec
    rabbitmq: RabbitMQSpec
    edge: EdgeSpec
    monitoring: MonitoringSpec
    addons: AddonsSpec

    @field_validator("frontend", mode="before")
    @classmethod
    def _no_frontend_unless_enabled(cls, value: object) -> object:
        # Declared with a default of {} like every key: that, or enabled false, means none.
        if value == {} or (isinstance(value, dict) and value.get("enabled") is False):
            return None
        return value

    @model_validator(mode="after")
    def _routes_have_their_services(self) -> StackConfig:
        if self.edge.enabled and self.frontend is None and any(
            route.service == FRONTEND_SERVICE for host in self.edge.hosts for route in host.routes
        ):
            raise rule_error("`edge.hosts[].routes` sends requests to `frontend`, but there is no `frontend` "
                             "(set frontend.image and the rest of its keys)")
        return self

    @model_validator(mode="after")
    def _archived_volumes_exist(self) -> StackConfig:
        backup = self.database.backup
        unknown = [name for name in backup.volumes if name not in {v.name for v in self.app.volumes}]
        if unknown:
            raise rule_error(f"`database.backup.volumes` names {', '.join(unknown)}, not in `app.volumes`")
        if backup.volumes and not (self.database.enabled and backup.enabled):
            raise rule_error("`database.backup.volumes` are archived by the database's backup runs: "
                             "set `database.enabled` and `database.backup.enabled`")
        return self

    @model_validator(mode="after")
    def _addons_have_what_they_install_for(self) -> StackConfig:
        if self.addons.edge_controller.enabled and (not self.edge.enabled or self.edge.controller == "generic"):
            raise rule_error(
                "`addons.edgeController.enabled` installs the chart of `edge.controller`, which must be "
                f"envoy-gateway, traefik or nginx with `edge.enabled` (got {self.edge.controller!r}, "
                f"enabled {str(self.edge.enabled).lower()})"
            )
        if self.addons.prometheus_stack.enabled and not self.network.metrics_namespace:
            raise rule_error("`addons.prometheusStack.enabled` needs `network.metricsNamespace`, where it installs Prometheus")
        addon_problems = [
            f"`addons.{key}.chart`: {problem}"
            for key, chart, addon in self.addons.installed(self.edge.controller)
            if addon.chart and (problem := local_chart_problem(chart, Path(addon.chart)))
        ]
        homes = {"certManager": "cert-manager", "edgeController": self.network.ingress_namespace,
                 "prometheusStack": self.network.metrics_namespace}
        installed = [key for key, _, _ in self.addons.installed(self.edge.controller)]
        for first, second in itertools.combinations(installed, 2):
            if homes[first] == homes[second]:
                addon_problems.append(
                    f"`addons.{first}` and `addons.{second}` would both own namespace {homes[first]!r} "
                    "(each add-on's release makes its namespace): give them apart with `network.ingressNamespace` "
                    "and `network.metricsNamespace`")
        if addon_problems:
            raise rule_error("; ".join(addon_problems))
        return self

    def namespace_for(self, stack: str) -> str:
        """`namespace`, or `<app.name>-<stack>`; a stack whose name already is the app's
        name or starts with `<app.name>-` (`shop`, `shop-eu`) is used as it is, so no
        namespace reads `shop-shop`."""
        if self.namespace:
            return self.namespace
        if stack == self.app.name or stack.startswith(f"{self.app.name}-"):
            return stack
        return f"{self.app.name}-{stack}"


class ConfigError(pulumi.RunError):
    """Invalid stack config; its message lists every problem, one per line."""

    def __init__(self, stack: str, problems: list[str]):
        self.problems = problems
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid config for stack '{stack}' ({count}); nothing was deployed:\n{lines}")


def current_config() -> tuple[dict[str, str], set[str]]:
    """Every config key the engine passed to this program (`namespace:key` -> text),
    and which of them hold secrets."""
    keys = set(pulumi.runtime.config.CONFIG.get()) | set(pulumi.runtime.get_config_env())
    secret = {key for key in keys if pulumi.runtime.is_config_secret(key)}
    return {key: pulumi.runtime.get_config(key) for key in keys}, secret


def load(raw: Mapping[str, str], stack: str, secret_keys: Iterable[str] = ()) -> StackConfig:
    """Parse and validate a stack's config, or raise `ConfigError` naming every bad key."""
    problems: list[str] = []
    secret_keys = set(secret_keys)
    for key, fields in SECRET_FIELDS.items():
        text = raw.get(f"{PROJECT}:{key}")
        if not text or f"{PROJECT}:{key}" in secret_keys:
            continue
        for field in fields:
            if _has(text, field):
                name = f"{key}.{field}" + (".NAME" if key == "secrets" else "")
                problems.append(
                    f"{key}.{field}: stored in clear text; set it with "
                    f"`pulumi config set --secret --path '{name}' VALUE`"
                )
    values: dict[str, object] = {}
    for key, text in sorted(raw.items()):
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            values[name] = _decode(name, text, problems)
        elif namespace not in PROVIDER_NAMESPACES:
            problems.append(f"{key}: unknown config namespace '{namespace}' (this project's is '{PROJECT}')")

    environment = values.get("environment")
    context: dict[str, object] = {"stack": stack}
    if environment in typing.get_args(Environment):
        context["environment"] = environment
    try:
        config = StackConfig.model_validate(values, context=context)
    except ValidationError as error:
        problems.extend(_describe(e) for e in error.errors())
        config = None
    if problems:
        raise ConfigError(stack, problems)
    assert config is not None
    return config


def _has(text: str, path: str) -> bool:
    """Whether the JSON object `text` has a value at the dotted `path`."""
    try:
        value = json.loads(text)
        for part in path.split("."):
            value = value.get(part)
        return bool(value)
    except (json.JSONDecodeError, AttributeError):
        return False


def _decode(name: str, text: str, problems: list[str]) -> object:
    """Object-typed keys arrive as JSON text; everything else as it is."""
    field = StackConfig.model_fields.get(name)
    if field is None or spec_type(field.annotation) is None or not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(f"{name}: not a valid object ({error.msg})")
        return None


def _describe(error: ErrorDetails) -> str:
    loc = error["loc"]
    key = key_path(loc)
    kind = error["type"]
    if kind == "rule":
        return _expand_names(error["msg"], key)
    if kind == "extra_forbidden":
        hint = _suggest(loc)
        return f"{key}: unknown key" + (f"; did you mean {hint}?" if hint else "")
    if kind == "missing":
        return f"{key}: required"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {value!r})" if isinstance(value, (str, int, float, bool)) and kind != "value_error" else ""
    return f"{key}: {message}{shown}"


def key_path(loc: Iterable[int | str]) -> str:
    """('app', 'workers', 0, 'replicas') -> 'app.workers[0].replicas'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (name)"
        else:
            path += f".{part}" if path else part
    return path


def _expand_names(message: str, key: str) -> str:
    """Turn the `field` names of a rule into full keys: `max` at app.replicas -> app.replicas.max."""
    parts = message.split("`")
    for i in range(1, len(parts), 2):
        parts[i] = f"{key}.{parts[i]}" if key else parts[i]
    return "".join(parts)


def _suggest(loc: tuple[int | str, ...]) -> str | None:
    """The closest known key to a misspelt one, by walking the spec types along `loc`."""
    model: type[BaseModel] | None = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        model = _spec_of(model, part)
    if model is None:
        return None
    known = [f.alias or n for n, f in model.model_fields.items()]
    match = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return key_path([*loc[:-1], match[0]]) if match else None


def _spec_of(model: type[BaseModel], alias: str) -> type[BaseModel] | None:
    for name, field in model.model_fields.items():
        if alias in (name, field.alias):
            return spec_type(field.annotation)
    return None
