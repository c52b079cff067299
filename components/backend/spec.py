"""What a user can ask of a Python web backend, as validated, frozen values.

Stack config is parsed into these (camelCase keys in the stack file, snake_case
here); the Backend component takes them as they are. Every default lives here.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from components.quantities import CpuQuantity, MemoryQuantity, parse_quantity
from components.spec import DNS_LABEL, Spec, is_production, rule_error

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Names that hold credentials in the seed apps' .env files; such values belong in a
# Secret, where they are encrypted in state and never shown in a diff.
_SECRET_LOOKING = re.compile(r"(PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|LICENSE_KEY|CREDENTIALS?|_DSN)$|SECRET")
_IMAGE = re.compile(
    r"^(?P<repository>[a-z0-9]+([._/:-][a-z0-9]+)*?)(:(?P<tag>[\w][\w.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def _pinned_image(reference: str) -> str:
    match = _IMAGE.match(reference)
    if match is None:
        raise ValueError(f"{reference!r} is not an image reference like registry/app:1.4.2")
    if match["digest"] is None and match["tag"] in (None, "latest"):
        raise ValueError(
            f"{reference!r} is not pinned: give a version tag (app:1.4.2) or a digest "
            "(app@sha256:...), so every pod and every rollback runs the same code"
        )
    return reference


def has_digest(reference: str) -> bool:
    match = _IMAGE.match(reference)
    return match is not None and match["digest"] is not None


def image_tag(reference: str) -> str:
    """The version part of a pinned reference: its tag, or the start of its digest."""
    match = _IMAGE.match(reference)
    if match is None:
        return ""
    return match["tag"] or (match["digest"] or "").replace(":", "-")[:19]


def _env_names_not_secret(env: dict[str, str]) -> dict[str, str]:
    for name in env:
        if _SECRET_LOOKING.search(name.upper()):
            raise ValueError(
                f"{name} looks like a credential; plain env is stored and shown in clear "
                "text, so give it as a secret instead"
            )
    return env


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
EnvName = Annotated[str, Field(pattern=ENV_NAME)]
PlainEnv = Annotated[dict[EnvName, str], AfterValidator(_env_names_not_secret)]
Command = Annotated[list[str], Field(min_length=1)]


class ComputeSpec(Spec):
    cpu: CpuQuantity
    """CPU, in cores or millicores: `500m`, `1`."""
    memory: MemoryQuantity
    """Memory with a unit: `256Mi`, `1Gi`."""


class ResourcesSpec(Spec):
    """Requests (what the scheduler reserves) and limits (where the kernel stops a container)."""

    requests: ComputeSpec = ComputeSpec(cpu="100m", memory="256Mi")
    """Reserved for the container: `{cpu: 100m, memory: 256Mi}`."""
    limits: ComputeSpec = ComputeSpec(cpu="1", memory="512Mi")
    """The most it may use; memory above it gets the container killed: `{cpu: 1, memory: 512Mi}`."""

    @model_validator(mode="after")
    def _limits_cover_requests(self) -> ResourcesSpec:
        for resource in ("cpu", "memory"):
            request = getattr(self.requests, resource)
            limit = getattr(self.limits, resource)
            if parse_quantity(limit) < parse_quantity(request):
                raise rule_error(
                    f"`limits.{resource}` ({limit}) must be >= `requests.{resource}` ({request})"
                )
        return self


class ReplicasSpec(Spec):
    """How many web pods run; a range (max > min) turns on the HorizontalPodAutoscaler."""

    min: int = Field(default=1, ge=1)
    """Fewest web pods; the fixed count when `max` equals it."""
    max: int = Field(default=1, ge=1, le=100)
    """Most web pods the autoscaler may run."""

    @model_validator(mode="after")
    def _max_at_least_min(self) -> ReplicasSpec:
        if self.max < self.min:
            raise rule_error(f"`max` ({self.max}) must be >= `min` ({self.min})")
        return self

    @property
    def autoscaled(self) -> bool:
        return self.max > self.min


class AutoscalingSpec(Spec):
    """HPA targets, as a percentage of the pods' requests."""

    cpu_utilization: int = Field(default=70, ge=10, le=100)
    """Average CPU use, in percent of requests, the autoscaler aims for."""
    memory_utilization: int = Field(default=80, ge=10, le=100)
    """Average memory use, in percent of requests, the autoscaler aims for."""
    scale_down_stabilization_seconds: int = Field(default=300, ge=0, le=3600)
    """How long load must stay low before pods are removed; damps flapping."""


class BuildSpec(Spec):
    """Build the image from a Dockerfile with pulumi-docker and push it as `app.image`."""

    context: str = "."
    """Build context directory, relative to the project."""
    dockerfile: str = "Dockerfile"
    """Dockerfile path, relative to the project."""
    target: str | None = None
    """Build stage to stop at (multi-stage Dockerfiles)."""
    platform: str = "linux/amd64"
    """Platform of the cluster's nodes."""
    push: bool = True
    """Off only for a cluster that reads the local Docker engine's images (kind, minikube)."""


class ExecProbeSpec(Spec):
    """A health command for a process without a port, e.g. `celery inspect ping`."""

    command: Command
    """Exec form: `[sh, -c, "..."]` when it needs a shell."""
    period_seconds: int = Field(default=30, ge=5, le=600)
    """Seconds between checks."""
    timeout_seconds: int = Field(default=10, ge=1, le=120)
    """Seconds a check may take before it counts as failed."""

    @model_validator(mode="after")
    def _timeout_within_period(self) -> ExecProbeSpec:
        if self.timeout_seconds >= self.period_seconds:
            raise rule_error(
                f"`timeoutSeconds` ({self.timeout_seconds}) must be < "
                f"`periodSeconds` ({self.period_seconds})"
            )
        return self


class WorkerSpec(Spec):
    """A long-running process from the app image that serves no HTTP (Celery, RQ, beat)."""

    name: str = Field(pattern=DNS_LABEL, max_length=20)
    """Short name (`celery`, `beat`); the Deployment is `<app.name>-<name>`."""
    role: Literal["worker", "scheduler"] = "worker"
    """`scheduler` (Celery beat, cron-like loops) runs as exactly one pod, replaced, never doubled."""
    command: Command
    """The process to run: `[celery, -A, app.celery, worker]`."""
    replicas: int = Field(default=1, ge=1, le=100)
    """Number of pods; must be 1 for a scheduler."""
    resources: ResourcesSpec = ResourcesSpec()
    """Requests and limits of each pod."""
    probe: ExecProbeSpec
    """Health command for startup, readiness and liveness probes."""
    graceful_shutdown_seconds: int = Field(default=60, ge=1, le=3600)
    """Time to finish running tasks after SIGTERM (Celery's warm shutdown)."""

    @model_validator(mode="after")
    def _replicas_fit_role(self, info: ValidationInfo) -> WorkerSpec:
        if self.singleton and self.replicas != 1:
            raise rule_error(
                f"`replicas` ({self.replicas}) must be 1 for `role` scheduler: "
                "a second scheduler would run every periodic task twice"
            )
        if not self.singleton and self.replicas < 2 and is_production(info):
            raise rule_error(
                f"`replicas` ({self.replicas}) must be >= 2 in production, "
                "so the worker survives a node loss"
            )
        return self

    @property
    def singleton(self) -> bool:
        return self.role == "scheduler"


class MigrationSpec(Spec):
    """A command (`flask db upgrade`, `alembic upgrade head`) run to completion before rollout."""

    command: Command
    """Runs to completion once per rollout: `[flask, db, upgrade]`."""
    timeout_seconds: int = Field(default=600, ge=30, le=86400)
    """Longest the migration may run before the Job, and the rollout, fail."""
    retries: int = Field(default=1, ge=0, le=10)
    """Extra attempts after a failure (a database still starting, say)."""
    resources: ResourcesSpec = ResourcesSpec()
    """Requests and limits of the migration pod."""


class AppSpec(Spec):
    """The web process of a Flask or FastAPI app, its workers and its migration."""

    name: str = Field(pattern=DNS_LABEL, max_length=30)
    """The app's name: labels, object names and the default namespace derive from it."""
    image: PinnedImage
    """Image reference pinned by tag (not `latest`) or digest: `ghcr.io/org/app:1.4.2`."""
    image_pull_policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"
    """`Always` re-checks registry credentials at every pod start."""
    build: BuildSpec | None = None
    """Build `image` from a Dockerfile first (needs a Docker engine where Pulumi runs)."""
    command: Command | None = None
    """The server command (gunicorn/uvicorn); the image's own when not given."""
    port: int = Field(default=8000, ge=1024, le=65535)
    """Ports under 1024 need root, which the pods never have."""
    health_path: str = Field(default="/health", pattern=r"^/")
    """HTTP path that answers 200 while the process is alive (startup and liveness probes)."""
    readiness_path: str | None = Field(default=None, pattern=r"^/")
    """A path that also checks dependencies; the health path when not given."""
    graceful_shutdown_seconds: int = Field(default=30, ge=1, le=600)
    """The server's own graceful timeout (gunicorn --graceful-timeout)."""
    pre_stop_seconds: int = Field(default=5, ge=0, le=60)
    """Pause before SIGTERM so endpoints stop sending traffic to a stopping pod."""
    replicas: ReplicasSpec = ReplicasSpec()
    """`{min, max}` web pods; a range turns on the autoscaler."""
    autoscaling: AutoscalingSpec = AutoscalingSpec()
    """Autoscaler targets, used when `replicas.max` > `replicas.min`."""
    resources: ResourcesSpec = ResourcesSpec()
    """Requests and limits of each web pod."""
    env: PlainEnv = {}
    """Plain (non-secret) environment for every app pod; credentials are refused here."""
    workers: list[WorkerSpec] = []
    """Processes without HTTP from the same image: Celery worker and beat, RQ."""
    migration: MigrationSpec | None = None
    """Schema migration run as a Job before each rollout."""
    run_as_user: int = Field(default=10001, ge=1, le=2**31 - 1)
    """The UID every container runs as; above 10000 so it matches no host user."""

    @field_validator("replicas")
    @classmethod
    def _redundant_in_production(cls, replicas: ReplicasSpec, info: ValidationInfo) -> ReplicasSpec:
        if is_production(info) and replicas.min < 2:
            raise rule_error(
                f"`min` ({replicas.min}) must be >= 2 in production, so the app survives a node loss"
            )
        return replicas

    @model_validator(mode="after")
    def _digest_in_production(self, info: ValidationInfo) -> AppSpec:
        # A built and pushed image already runs by digest.
        built_by_us = self.build is not None and self.build.push
        if is_production(info) and not has_digest(self.image) and not built_by_us:
            raise rule_error(
                f"`image` ({self.image}) must carry a digest in production "
                "(app:1.4.2@sha256:...): a tag can be pushed again, a digest cannot"
            )
        return self

    @model_validator(mode="after")
    def _worker_names_unique(self) -> AppSpec:
        names = [w.name for w in self.workers]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise rule_error(f"`workers` names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @property
    def version(self) -> str:
        return image_tag(self.image)
