"""What a user can ask of a Python web backend, as validated, frozen values.

Stack config is parsed into these (camelCase keys in the stack file, snake_case
here); the Backend component takes them as they are. Every default lives here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from components.backend.listening import listening_problem
from components.backend.storage import SharedVolumeSpec, holds
from components.quantities import CpuQuantity, MemoryQuantity, parse_quantity
from components.schedule import CronSchedule, TimeZone
from components.spec import DNS_LABEL, Spec, is_production, rule_error

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Settings that name a folder for user uploads (Flask UPLOAD_FOLDER, Django MEDIA_ROOT).
_UPLOAD_SETTING = re.compile(r"UPLOAD|MEDIA_ROOT")
# Names that hold credentials in the seed apps' .env files; such values belong in a
# Secret, where they are encrypted in state and never shown in a diff.
_SECRET_LOOKING = re.compile(r"(PASSWORD|PASSWD|TOKEN|PRIVATE_KEY|API_KEY|LICENSE_KEY|CREDENTIALS?|_DSN)$|SECRET")
_IMAGE = re.compile(
    r"^(?P<repository>[a-z0-9]+([._/:-][a-z0-9]+)*?)(:(?P<tag>[\w][\w.-]{0,127}))?(@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


DIGEST_RULE = (
    "must carry a digest in production (app:1.4.2@sha256:...): a tag can be pushed again, a digest cannot"
)
"""The production image rule, worded once for every image field and every way to break it."""


def _pinned_image(reference: str, info: ValidationInfo) -> str:
    match = _IMAGE.match(reference)
    if match is None:
        raise ValueError(f"{reference!r} is not an image reference like registry/app:1.4.2")
    if match["digest"] is None and match["tag"] in (None, "latest"):
        # A tag would only meet the digest rule next, so production asks for the digest at once.
        if is_production(info):
            raise ValueError(f"{reference!r} is not pinned, and an image {DIGEST_RULE}")
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


# Header names that carry credentials. A probe cannot keep a secret: its headers are
# plain fields of the Deployment, shown by `kubectl describe` and in every diff.
_CREDENTIAL_HEADER = re.compile(r"AUTH|COOKIE|TOKEN|SECRET|API.?KEY|PASSWORD|PASSWD|CREDENTIAL|SESSION|SIGNATURE")


def _header_value(value: str) -> str:
    if any(c in value for c in "\r\n\0"):
        raise ValueError("must be one line: a line break would start another header")
    return value


def _probe_headers_plain(headers: dict[str, str]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for name in headers:
        if _CREDENTIAL_HEADER.search(name.upper()):
            raise ValueError(
                f"{name} looks like a credential; probes must reach endpoints that need none, "
                "and a probe header is stored and shown in clear text"
            )
        if name.lower() in seen:
            raise ValueError(f"{seen[name.lower()]} is given twice (also as {name}); header names ignore case")
        seen[name.lower()] = name
    return headers


PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
EnvName = Annotated[str, Field(pattern=ENV_NAME)]
PlainEnv = Annotated[dict[EnvName, str], AfterValidator(_env_names_not_secret)]
Command = Annotated[list[str], Field(min_length=1)]
# Header names as the API server accepts them in a probe.
HeaderName = Annotated[str, Field(pattern=r"^[A-Za-z0-9-]+$", max_length=256)]
ProbeHeaders = Annotated[
    dict[HeaderName, Annotated[str, AfterValidator(_header_value)]], AfterValidator(_probe_headers_plain)
]


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


# The autoscaler leaves the replica count alone while use is within 10 % of its target
# (kube-controller-manager's --horizontal-pod-autoscaler-tolerance), so it adds pods
# only once use exceeds 110 % of the target.
HPA_TOLERANCE = Decimal("0.1")


class AutoscalingSpec(Spec):
    """HPA targets, as a percentage of the pods' requests."""

    cpu_utilization: int = Field(default=70, ge=10, le=500)
    """Average CPU use, in percent of requests, the autoscaler aims for. Above 100 is
    allowed, as Kubernetes allows it: a pod may use CPU beyond its request up to its
    limit, so with `requests.cpu` 250m and `limits.cpu` 1, a target of 200 means 500m.
    It must stay below what the limit lets a pod reach (checked against `resources`),
    and at most 500: beyond five times the request, the request no longer says what a
    pod needs, and the scheduler packs nodes with pods that all expect to burst."""
    memory_utilization: int = Field(default=80, ge=10, le=100)
    """Average memory use, in percent of requests, the autoscaler aims for. At most 100,
    although Kubernetes allows more: memory cannot be throttled, and under memory
    pressure the kubelet evicts first the pods that use more than their request, so a
    target above the request would add pods only once they are the first to go."""
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


# Health commands that ask the broker: fine for readiness, fatal as liveness, since a
# broker restart would fail every worker's check at once and kill them all.
_BROKER_ROUND_TRIP = re.compile(r"\binspect\b|\bcelery\b.*\bstatus\b|redis-cli|rabbitmqctl|\brq\s+info\b")


class LivenessSpec(Spec):
    """How the kubelet tells a hung worker from a busy one, without asking the broker.

    By default it checks that the worker's main process (PID 1) is alive and neither
    stopped nor a zombie. A worker that can hang while alive touches a heartbeat file
    (e.g. a Celery bootstep on every heartbeat) and names it in `heartbeatFile`.
    """

    heartbeat_file: str | None = Field(default=None, pattern=r"^/")
    """A file the worker touches while it works; older than `maxAgeSeconds` means hung."""
    max_age_seconds: int = Field(default=120, ge=10, le=3600)
    """How stale the heartbeat file may get before the worker is restarted."""
    command: Command | None = None
    """Your own check instead; it must test the process, not the broker."""
    period_seconds: int = Field(default=30, ge=5, le=600)
    """Seconds between checks."""
    timeout_seconds: int = Field(default=5, ge=1, le=120)
    """Seconds a check may take before it counts as failed."""

    @model_validator(mode="after")
    def _process_not_broker(self) -> LivenessSpec:
        if self.heartbeat_file and self.command:
            raise rule_error("give `heartbeatFile` or `command`, not both")
        if self.command and _BROKER_ROUND_TRIP.search(" ".join(self.command)):
            raise rule_error(
                f"`command` ({' '.join(self.command)}) asks the broker: when the broker restarts every worker "
                "fails it at once and is killed. Put a broker check in the worker's `probe` (readiness) and "
                "let liveness test the process (the default) or a heartbeat file"
            )
        if self.timeout_seconds >= self.period_seconds:
            raise rule_error(
                f"`timeoutSeconds` ({self.timeout_seconds}) must be < `periodSeconds` ({self.period_seconds})"
            )
        return self

    @property
    def exec_command(self) -> list[str]:
        if self.command:
            return list(self.command)
        if self.heartbeat_file:
            return ["python3", "-c", "import os, sys, time; "
                    f"sys.exit(time.time() - os.stat({self.heartbeat_file!r}).st_mtime > {self.max_age_seconds})"]
        # PID 1 is the worker's main process; state Z (zombie) or T (stopped) means it is gone.
        return ["python3", "-c", "import sys; "
                "sys.exit(open('/proc/1/stat').read().rpartition(')')[2].split()[0] in ('Z', 'T'))"]


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
    """Health command for the startup and readiness probes; it may ask the broker
    (`celery inspect ping`). A scheduler's probe (a fresh schedule file) tests the
    process itself, so it is its liveness probe too."""
    liveness: LivenessSpec = LivenessSpec()
    """Liveness probe of a `worker`: the process, or a heartbeat file, never the broker."""
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


class CronJobSpec(Spec):
    """The app's own periodic work, from its image with its environment: a materialized-view
    refresh, `clearsessions`, a morning digest. Never two runs at once."""

    name: str = Field(pattern=DNS_LABEL, max_length=30)
    """Short name (`refresh-stats`); the CronJob is `<app.name>-<name>`."""
    schedule: CronSchedule
    """Five cron fields (`0 3 * * *`) or a macro (`@daily`), read in `timeZone`."""
    time_zone: TimeZone = "Etc/UTC"
    """IANA zone of the schedule: `30 7 * * 1-5` in Europe/Berlin is 07:30 there, all year."""
    command: Command
    """What to run: `[python, -m, app.jobs.refresh_stats]`."""
    timeout_seconds: int = Field(default=3600, ge=30, le=86400)
    """A run that takes longer is stopped and fails."""
    retries: int = Field(default=1, ge=0, le=10)
    """Attempts after a failed one, before the run counts as failed."""
    suspend: bool = False
    """Stop scheduling runs (a run going on finishes), without losing the definition."""
    resources: ResourcesSpec = ResourcesSpec()
    """Requests and limits of each run's pod."""


class AppSpec(Spec):
    """The web process of a Flask or FastAPI app, its workers and its migration."""

    name: str = Field(pattern=DNS_LABEL, max_length=30)
    """The app's name: labels, object names and the default namespace derive from it."""
    image: PinnedImage
    """Image reference pinned by tag (not `latest`) or digest: `ghcr.io/org/app:1.4.2`; in
    production by digest (`ghcr.io/org/app:1.4.2@sha256:...`) unless `build` pushes it."""
    image_pull_policy: Literal["IfNotPresent", "Always"] = "IfNotPresent"
    """`Always` re-checks registry credentials at every pod start."""
    build: BuildSpec | None = None
    """Build `image` from a Dockerfile first (needs a Docker engine where Pulumi runs)."""
    command: Command | None = None
    """The server command (gunicorn/uvicorn); the image's own when not given."""
    port: int = Field(default=8000, ge=1024, le=65535)
    """The port the server listens on, for the probes and the Service; ports under 1024
    need root, which the pods never have. A port `command` names (`--bind`, `--port`)
    must be this one."""
    health_path: str = Field(default="/health", pattern=r"^/")
    """HTTP path of the startup and liveness probes: answers 200 while the process is
    alive. Keep it cheap and free of dependencies (a database outage must not restart
    every pod) and open: no auth, since the kubelet sends no credentials."""
    readiness_path: str | None = Field(default=None, pattern=r"^/")
    """HTTP path of the readiness probe; the health path when not given. It may check
    dependencies (a pod that cannot reach its database stops getting traffic), but must
    not require auth either: the kubelet sends no credentials."""
    probe_headers: ProbeHeaders = {}
    """HTTP headers the kubelet sends with every web probe, e.g. `{Host: shop.example.com}`
    for a Django app whose `ALLOWED_HOSTS` refuses the pod IP. Plain values, shown in the
    Deployment; credential-looking names (Authorization, Cookie, ...) are refused."""
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
    volumes: list[SharedVolumeSpec] = []
    """Persistent volumes every app pod mounts (an upload folder shared by all replicas)."""
    workers: list[WorkerSpec] = []
    """Processes without HTTP from the same image: Celery worker and beat, RQ."""
    migration: MigrationSpec | None = None
    """Schema migration run as a Job before each rollout."""
    cron_jobs: list[CronJobSpec] = []
    """Periodic jobs from the app image (CronJobs), with the app's environment and secrets."""
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
            raise rule_error(f"`image` ({self.image}) {DIGEST_RULE}")
        return self

    @model_validator(mode="after")
    def _command_listens_on_port(self) -> AppSpec:
        problem = listening_problem(self.command or [], self.port)
        if problem:
            raise rule_error(problem)
        return self

    @model_validator(mode="after")
    def _autoscaling_targets_reachable(self) -> AppSpec:
        if not self.replicas.autoscaled:
            return self
        for resource, key in (("cpu", "cpuUtilization"), ("memory", "memoryUtilization")):
            target = getattr(self.autoscaling, f"{resource}_utilization")
            request = getattr(self.resources.requests, resource)
            limit = getattr(self.resources.limits, resource)
            # Use never exceeds the limit (CPU is throttled there, memory is killed there).
            reachable = 100 * parse_quantity(limit) / parse_quantity(request) / (1 + HPA_TOLERANCE)
            if target >= reachable:
                raise rule_error(
                    f"`autoscaling.{key}` ({target}) must be below 100 x `resources.limits.{resource}` "
                    f"({limit}) / `resources.requests.{resource}` ({request}) / {1 + HPA_TOLERANCE} = "
                    f"{reachable:.1f}: pods never use more than their limit, and the autoscaler adds "
                    f"pods only when use is over {100 + 100 * HPA_TOLERANCE:.0f} % of its target, so it would never scale up"
                )
        return self

    @model_validator(mode="after")
    def _worker_names_unique(self) -> AppSpec:
        for key, items in (("workers", self.workers), ("cronJobs", self.cron_jobs)):
            names = [item.name for item in items]
            duplicates = sorted({n for n in names if names.count(n) > 1})
            if duplicates:
                raise rule_error(f"`{key}` names must be unique; repeated: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _volumes_fit_pods(self) -> AppSpec:
        for field, key in (("name", "name"), ("mount_path", "mountPath")):
            values = [getattr(v, field) for v in self.volumes]
            repeated = sorted({v for v in values if values.count(v) > 1})
            if repeated:
                raise rule_error(f"each of `volumes` needs its own {key}; repeated: {', '.join(repeated)}")
        single = [v.name for v in self.volumes if v.access_mode == "ReadWriteOnce"]
        if single and (self.replicas.max > 1 or self.workers):
            raise rule_error(
                f"`volumes` {', '.join(single)}: ReadWriteOnce mounts on one node only, and this app runs "
                "several pods (web replicas or workers); pods on other nodes would never start. Use "
                "ReadWriteMany with a storage class that offers it (NFS, EFS, Filestore, Azure Files, CephFS)"
            )
        return self

    @model_validator(mode="after")
    def _uploads_on_shared_volume(self, info: ValidationInfo) -> AppSpec:
        if not is_production(info):
            return self
        for name, value in sorted(self.env.items()):
            if _UPLOAD_SETTING.search(name) and value.startswith("/") and not any(holds(v, value) for v in self.volumes):
                raise rule_error(
                    f"`env.{name}` ({value}) is on no shared volume: files written there vanish when the pod "
                    "goes and each replica sees only its own. Add a ReadWriteMany volume under `volumes` and "
                    f"point {name} into its mountPath, or keep the files in object storage"
                )
        return self

    @property
    def version(self) -> str:
        return image_tag(self.image)
