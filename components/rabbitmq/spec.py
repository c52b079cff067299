"""What a stack can ask of its RabbitMQ."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

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

# The official image's Alpine variant with the management plugin (uid 100, gid 101).
RABBITMQ_IMAGE = (
    "rabbitmq:4.1.4-management-alpine@sha256:5cbd7145b0306399ad68422c3350b6cbd1bb95704b39f5896480e5b6d4238a04"
)
_DISK_SIZE = re.compile(r"^\d+(kB|MB|GB|KiB|MiB|GiB)$")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _disk_size(text: str) -> str:
    if not _DISK_SIZE.match(text):
        raise ValueError(f"{text!r} is not a RabbitMQ size (e.g. 1GB, 500MB, 2GiB)")
    return text


class RabbitMQSpec(Spec):
    """RabbitMQ in the cluster: one node with a retained volume, a generated password and
    Erlang cookie, the management and Prometheus plugins, and its URL in the app's Secret."""

    enabled: bool = False
    """Give the app a RabbitMQ."""
    image: PinnedImage = RABBITMQ_IMAGE
    """The official image, with the management plugin; pinned."""
    user: str = Field(default="app", pattern=_NAME)
    """The app's user; it gets full permissions on `vhost` and the management UI's
    `management` tag (its own vhost only, no administration)."""
    vhost: str | None = Field(default=None, pattern=r"^[A-Za-z0-9/][A-Za-z0-9_./-]{0,63}$")
    """The app's virtual host (`/` is RabbitMQ's own default one); the app's name when not given."""
    urls: list[EnvName] = Field(default=["RABBITMQ_URL"], min_length=1)
    """Environment variables to set to the AMQP URL, e.g. [RABBITMQ_URL, CELERY_BROKER_URL]."""
    memory_high_watermark: float = Field(default=0.4, gt=0.1, le=0.8)
    """Share of the memory limit past which RabbitMQ blocks publishers (its memory alarm);
    the rest is for the Erlang VM's own use and garbage collection."""
    disk_free_limit: Annotated[str, AfterValidator(_disk_size)] = "1GB"
    """Free disk below which RabbitMQ blocks publishers (its disk alarm)."""
    storage: StorageSpec = StorageSpec(size="8Gi")
    """The data volume: queues, messages and the node's metadata."""
    resources: ResourcesSpec = ResourcesSpec(
        requests=ComputeSpec(cpu="100m", memory="512Mi"), limits=ComputeSpec(cpu="1", memory="1Gi")
    )
    """Requests and limits of the node; the memory alarm is a share of the memory limit."""

    @model_validator(mode="after")
    def _fits(self, info: ValidationInfo) -> RabbitMQSpec:
        if not self.enabled:
            return self
        if is_production(info) and not has_digest(self.image):
            raise rule_error(f"`image` ({self.image}) {DIGEST_RULE}")
        if parse_quantity(self.storage.size) < parse_quantity("2Gi"):
            raise rule_error(f"`storage.size` ({self.storage.size}) must be at least 2Gi: below `diskFreeLimit` "
                             "and the node's own files, RabbitMQ blocks every publisher")
        return self

    def memory_limit_bytes(self) -> int:
        return int(float(parse_quantity(self.resources.limits.memory)))
