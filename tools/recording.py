"""Run the real program under Pulumi mocks and record everything it registers.

No CLI, no engine, no cluster: the mock monitor answers every registration, and
`RecordingMonitor` keeps a copy of each request, with its resource options. This is
what `make render` writes out and what the unit tests inspect.
"""

from __future__ import annotations

import runpy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "__main__.py"
MOCK_DIGEST = "sha256:" + "0" * 64
MOCK_PASSWORD = "mock-generated-password"
KUBERNETES_PREFIX = "kubernetes:"


@dataclass
class Recorded:
    """One registered resource: what it was given and with which options."""

    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    secret_paths: list[str]
    """Paths of inputs that were marked secret, e.g. `stringData.password`."""
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    replace_on_changes: list[str]
    dependencies: list[str]
    ignore_changes: list[str] = field(default_factory=list)
    create_timeout: str = ""
    """`custom_timeouts.create`: how long the engine waits for the resource to be ready."""

    @property
    def is_kubernetes_object(self) -> bool:
        return self.custom and self.type.startswith(KUBERNETES_PREFIX) and "kind" in self.inputs

    @property
    def kind(self) -> str:
        return self.inputs.get("kind", "")

    @property
    def object_name(self) -> str:
        return self.inputs.get("metadata", {}).get("name", "")


@dataclass
class Recording:
    """Everything one run of the program registered, in registration order."""

    resources: list[Recorded] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def by_urn(self, urn: str) -> Recorded | None:
        return next((r for r in self.resources if r.urn == urn), None)

    def kubernetes_objects(self) -> list[Recorded]:
        return [r for r in self.resources if r.is_kubernetes_object]

    def manifests(self) -> list[dict[str, Any]]:
        return [r.inputs for r in self.kubernetes_objects()]

    def find(self, kind: str, name: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.kubernetes_objects()
            if r.kind == kind and (name is None or r.object_name == name)
        ]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        """The inputs of the single object of this kind (and name); fails if not exactly one."""
        found = self.find(kind, name)
        assert len(found) == 1, f"expected one {kind} {name or ''}, found {[r.object_name for r in found]}"
        return found[0].inputs

    def component_of(self, resource: Recorded) -> Recorded | None:
        """The outermost component a resource belongs to."""
        top = None
        current = self.by_urn(resource.parent)
        while current is not None:
            if not current.custom:
                top = current
            current = self.by_urn(current.parent)
        return top

    def children_of(self, component: Recorded) -> Iterator[Recorded]:
        for r in self.resources:
            if self.component_of(r) is component:
                yield r


class RecordingMocks(pulumi.runtime.Mocks):
    """Answers like a provider would: inputs come back as state, plus computed outputs."""

    def __init__(self, generated_password: str = MOCK_PASSWORD):
        self.generated_password = generated_password

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict]:
        state = dict(args.inputs)
        if args.typ == "docker:index/image:Image":
            state["repoDigest"] = f"{_unwrap_value(state['imageName'])}@{MOCK_DIGEST}"
        if args.typ == "random:index/randomPassword:RandomPassword":
            # The provider marks a generated password secret; so does this mock.
            state["result"] = rpc.wrap_rpc_secret(f"{self.generated_password}-{args.name}")
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        return {}, None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, recording: Recording):
        super().__init__(mocks)
        self.recording = recording

    def RegisterResource(self, request):  # noqa: N802 (gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            secret_paths: list[str] = []
            inputs = _plain(rpc.deserialize_properties(request.object), "", secret_paths)
            self.recording.resources.append(
                Recorded(
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=inputs,
                    secret_paths=secret_paths,
                    protect=bool(request.protect),
                    retain_on_delete=bool(request.retainOnDelete),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    replace_on_changes=list(request.replaceOnChanges),
                    dependencies=list(request.dependencies),
                    ignore_changes=list(request.ignoreChanges),
                    create_timeout=request.customTimeouts.create if request.HasField("customTimeouts") else "",
                )
            )
        return response


def run_program(
    stack: str,
    config: dict[str, str],
    *,
    secret_keys: list[str] | None = None,
    project: str = "shipyard",
    program: Callable[[], object] | None = None,
    recording: Recording | None = None,
    generated_password: str = MOCK_PASSWORD,
) -> Recording:
    """Run the program (by default `__main__.py`) for `stack` with `config`; record it.

    Exceptions from the program (a `ConfigError`, say) propagate after the runtime
    has settled; pass your own `recording` to see what was registered before them.
    """
    recording = Recording() if recording is None else recording
    mocks = RecordingMocks(generated_password)
    # A fresh root stack per run: runs in one process must not see each other.
    settings.ROOT.set(None)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=False, monitor=RecordingMonitor(mocks, recording)
    )
    pulumi.runtime.set_all_config(dict(config), list(secret_keys or []))
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    body = program or (lambda: runpy.run_path(str(PROGRAM), run_name="__main__"))
    _sync_await(run_pulumi_func(body))
    _resolve_outputs(recording)
    return recording


def _resolve_outputs(recording: Recording) -> None:
    stack = settings.get_root_resource()
    for key, value in getattr(stack, "outputs", {}).items():
        output = pulumi.Output.from_input(value)
        recording.outputs[key] = _sync_await(output.future())
        if _sync_await(output.is_secret()):
            recording.secret_outputs.add(key)


def _plain(value: Any, path: str, secret_paths: list[str]) -> Any:
    """Deserialized inputs without secret wrappers, integers as integers.

    Records where the secrets were, since the wrappers are dropped.
    """
    if rpc.is_rpc_secret(value):
        secret_paths.append(path)
        return _plain(rpc.unwrap_rpc_secret(value), path, [])
    if isinstance(value, dict):
        return {k: _plain(v, f"{path}.{k}" if path else k, secret_paths) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, f"{path}[{i}]", secret_paths) for i, v in enumerate(value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _unwrap_value(value: Any) -> Any:
    return rpc.unwrap_rpc_secret(value) if rpc.is_rpc_secret(value) else value
