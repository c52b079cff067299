"""What a stack can ask of its Redis."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, SecretStr, ValidationInfo, model_validator

from components.backend.spec import ComputeSpec, EnvName, PinnedImage, ResourcesSpec, has_digest
from components.database.spec import StorageSpec
from components.spec import Spec, is_production, rule_error

REDIS_IMAGE = "redis:7.4.5@sha256:90e7a336d044f1abc9e9dbc05d65566850896d11453bbd1dd0fb7e5059f0e8fb"
EXPORTER_IMAGE = (
    "oliver006/redis_exporter:v1.73.0@sha256:1a8f5e48b2af0fb02d182be3ddd623e7e39881b6464bdb5bf843b1f6d45ed050"
)
_REDIS_MEMORY = re.compile(r"^\d+(b|k|kb|m|mb|g|gb)?$", re.IGNORECASE)
_SAVE_RULE = re.compile(r"^\d+ \d+$")
_COMMAND = re.compile(r"^[A-Z][A-Z|]*$")
# The BlockScore guide's layout: one logical database per purpose.
DEFAULT_URLS = {"REDIS_URL": 0, "CACHE_REDIS_URL": 1, "CELERY_BROKER_URL": 2, "RATELIMIT_STORAGE_URL": 3}
DANGEROUS_COMMANDS = ["FLUSHALL", "FLUSHDB", "CONFIG", "DEBUG", "SHUTDOWN", "MONITOR", "SAVE", "BGSAVE",
                      "BGREWRITEAOF", "REPLICAOF", "SLAVEOF", "MODULE", "ACL", "FAILOVER", "SCRIPT|FLUSH"]


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
    """Memory for data before eviction; three quarters of the memory limit when not given."""
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
    """Environment variables to set, each a URL to a logical database number."""
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
        elif self.url is not None:
            raise rule_error("`url` is only for `mode` external; an in-cluster Redis makes its own")
        elif is_production(info) and not has_digest(self.image):
            raise rule_error(f"`image` ({self.image}) must carry a digest in production")
        return self
