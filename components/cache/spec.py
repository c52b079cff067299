"""What a stack can ask of its Redis."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, model_validator

from components.backend.spec import (
    DIGEST_RULE,
    ComputeSpec,
    EnvName,
    PinnedImage,
    ResourcesSpec,
    has_digest,
)
from components.quantities import parse_quantity
from components.spec import Spec, StorageSpec, is_production, rule_error

REDIS_IMAGE = "redis:7.4.5@sha256:90e7a336d044f1abc9e9dbc05d65566850896d11453bbd1dd0fb7e5059f0e8fb"
EXPORTER_IMAGE = (
    "oliver006/redis_exporter:v1.73.0@sha256:1a8f5e48b2af0fb02d182be3ddd623e7e39881b6464bdb5bf843b1f6d45ed050"
)
_REDIS_MEMORY = re.compile(r"^\d+(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_SAVE_RULE = re.compile(r"^\d+ \d+$")
_COMMAND = re.compile(r"^[A-Z][A-Z|]*$")
# The BlockScore guide's layout: one logical database per purpose. Its broker (DB 2)
# lives on a Redis of its own (`broker`), which never evicts and keeps an AOF.
DEFAULT_URLS = {"REDIS_URL": 0, "CACHE_REDIS_URL": 1, "RATELIMIT_STORAGE_URL": 3}
BROKER_URLS = {"CELERY_BROKER_URL": 0}
# Variables that point a task queue at Redis: what sits behind them must not be
# evicted under memory pressure nor lost on a restart.
QUEUE_VARIABLES = frozenset({"CELERY_BROKER_URL", "BROKER_URL", "RQ_REDIS_URL"})
# Room between maxmemory and the container's memory limit: client buffers and
# fragmentation always; with snapshots or AOF rewrites, a forked child that copies
# every page written while it runs (up to the whole data set).
HEADROOM = {False: 0.9, True: 0.6}
DEFAULT_SHARE = {False: 0.75, True: 0.5}
DANGEROUS_COMMANDS = ["FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "SHUTDOWN", "MONITOR", "SAVE", "BGSAVE",
                      "BGREWRITEAOF", "REPLICAOF", "SLAVEOF", "MODULE", "ACL", "FAILOVER", "SCRIPT|FLUSH"]


_REDIS_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}


def redis_memory_bytes(text: str) -> int:
    """Bytes in a Redis memory size: `1k` is 1000 bytes, `1kb` is 1024 (as redis.conf reads them)."""
    match = re.match(r"^(\d+)([a-z]*)$", text.lower())
    if match is None or match[2] not in _REDIS_UNITS:
        raise ValueError(f"{text!r} is not a Redis memory size (e.g. 256mb, 2gb)")
    return int(match[1]) * _REDIS_UNITS[match[2]]


def _redis_memory(text: str) -> str:
    if not _REDIS_MEMORY.match(text):
        raise ValueError(f"{text!r} is not a Redis memory size (e.g. 256mb, 2gb)")
    return text.lower()


def _save_rule(text: str) -> str:
    if not _SAVE_RULE.match(text):
        raise ValueError(f"{text!r} is not a save rule `<seconds> <changes>` (e.g. 900 1)")
    return text


def _command(text: str) -> str:
    if not _COMMAND.match(text.upper()):
        raise ValueError(f"{text!r} is not a Redis command name")
    return text.upper()


class PersistenceSpec(Spec):
    """Snapshots (RDB) and the append-only file, on a volume kept like the database's."""

    enabled: bool = False
    """Keep data across restarts; off for a pure cache."""
    save: list[Annotated[str, AfterValidator(_save_rule)]] = ["900 1", "300 10", "60 10000"]
    """RDB snapshot rules, `<seconds> <changes>`: the guide's three."""
    append_only: bool = False
    """Also log every write (AOF), for a broker that must not lose tasks."""
    append_fsync: Literal["everysec", "always", "no"] = "everysec"
    """How often the AOF is flushed to disk."""
    storage: StorageSpec = StorageSpec(size="5Gi")
    """The data volume."""


class CacheSpec(Spec):
    """Redis: in the cluster (one password-protected primary) or an external managed one."""

    enabled: bool = False
    """Give the app a Redis."""
    mode: Literal["in-cluster", "external"] = "in-cluster"
    """`external` for a managed Redis (ElastiCache, Memorystore) reached through `url`."""
    image: PinnedImage = REDIS_IMAGE
    """Redis image, pinned."""
    maxmemory: Annotated[str, AfterValidator(_redis_memory)] | None = None
    """Memory for data before eviction. When not given: three quarters of the memory
    limit, or half of it when snapshots or AOF are on (a fork for a snapshot or an AOF
    rewrite copies every page written while it runs). At most 90 % of the limit, or
    60 % with persistence."""
    maxmemory_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    ] = "allkeys-lru"
    """What goes when memory is full; `noeviction` for a broker that must not drop tasks."""
    persistence: PersistenceSpec = PersistenceSpec()
    """Snapshots and AOF."""
    disabled_commands: list[Annotated[str, AfterValidator(_command)]] = DANGEROUS_COMMANDS
    """Commands the app's user may not run (the ACL denies them)."""
    urls: dict[EnvName, Annotated[int, Field(ge=0, le=15)]] = DEFAULT_URLS
    """Environment variables to set, each to a URL of this Redis: a map of variable
    name to logical database number (0-15), e.g. `{CACHE_REDIS_URL: 1}`. A task queue
    (CELERY_BROKER_URL, BROKER_URL, RQ_REDIS_URL) needs `maxmemoryPolicy` noeviction
    and `persistence.appendOnly`: give it the `broker` Redis instead."""
    resources: ResourcesSpec = ResourcesSpec(
        requests=ComputeSpec(cpu="50m", memory="128Mi"), limits=ComputeSpec(cpu="500m", memory="512Mi")
    )
    """Requests and limits of the server."""
    url: SecretStr | None = None
    """External mode: `redis://` or `rediss://` URL, set with `pulumi config set --secret --path cache.url`."""
    exporter_image: PinnedImage = EXPORTER_IMAGE
    """redis_exporter image for the metrics sidecar, pinned."""

    @model_validator(mode="after")
    def _mode_fits(self, info: ValidationInfo) -> CacheSpec:
        if not self.enabled:
            return self
        if self.mode == "external":
            url = self.url.get_secret_value() if self.url else ""
            if not url.startswith(("redis://", "rediss://")):
                raise rule_error("`url` must be a redis:// or rediss:// URL when `mode` is external")
            # A managed Redis's eviction and persistence are set where it is managed.
            return self
        if self.url is not None:
            raise rule_error("`url` is only for `mode` external; an in-cluster Redis makes its own")
        if is_production(info) and not has_digest(self.image):
            raise rule_error(f"`image` ({self.image}) {DIGEST_RULE}")
        self._memory_fits()
        self._queue_is_safe()
        return self

    @property
    def persistent(self) -> bool:
        return self.persistence.enabled

    def maxmemory_bytes(self) -> int:
        """The data budget: `maxmemory`, or the default share of the memory limit."""
        if self.maxmemory:
            return redis_memory_bytes(self.maxmemory)
        return int(float(parse_quantity(self.resources.limits.memory)) * DEFAULT_SHARE[self.persistent])

    def _memory_fits(self) -> None:
        limit = float(parse_quantity(self.resources.limits.memory))
        share = HEADROOM[self.persistent]
        if self.maxmemory and redis_memory_bytes(self.maxmemory) > limit * share:
            why = "snapshots and AOF rewrites fork, and the child copies every page written meanwhile" if self.persistent \
                else "client buffers and fragmentation need the rest"
            raise rule_error(
                f"`maxmemory` ({self.maxmemory}) must be at most {share:.0%} of `resources.limits.memory` "
                f"({self.resources.limits.memory}): {why}, and past the limit the kernel kills Redis"
            )

    def _queue_is_safe(self) -> None:
        queues = sorted(QUEUE_VARIABLES & set(self.urls))
        unsafe = []
        if self.maxmemory_policy != "noeviction":
            unsafe.append(f"evicts keys under memory pressure (`maxmemoryPolicy` {self.maxmemory_policy})")
        if not (self.persistence.enabled and self.persistence.append_only):
            unsafe.append("loses what was written since the last snapshot on a restart (`persistence.appendOnly` is off)")
        if queues and unsafe:
            raise rule_error(
                f"`urls` puts a task queue ({', '.join(queues)}) on a Redis that {' and '.join(unsafe)}: queued "
                "tasks would vanish silently. Set `maxmemoryPolicy` noeviction, `persistence.enabled` and "
                "`persistence.appendOnly`; a cache that should keep evicting gives the queue variable to the "
                "top-level broker key instead, a Redis of its own with those defaults"
            )


class BrokerPersistenceSpec(PersistenceSpec):
    """Snapshots and the append-only file, both on for a queue."""

    enabled: bool = True
    """Keep queued tasks across restarts."""
    append_only: bool = True
    """Log every write (AOF), so a restart loses at most a second of queued tasks."""


class BrokerSpec(CacheSpec):
    """A Redis of its own for the task queue (Celery's broker): it never evicts a key
    and logs every write (AOF), so queued tasks survive memory pressure and restarts."""

    maxmemory_policy: Literal[
        "noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
    ] = "noeviction"
    """`noeviction`: when full, writes fail loudly instead of tasks vanishing."""
    persistence: BrokerPersistenceSpec = BrokerPersistenceSpec()
    """Snapshots and AOF, on by default: a restart loses no queued task."""
    urls: dict[EnvName, Annotated[int, Field(ge=0, le=15)]] = BROKER_URLS
    """Environment variables to set, each to a URL of this Redis: a map of variable
    name to logical database number, e.g. `{CELERY_BROKER_URL: 0, CELERY_RESULT_BACKEND: 1}`."""
