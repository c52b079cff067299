"""What a stack can ask of its database backups: the nightly dump, retention, the
off-site copy, the restore drill and a restore on request."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import Field, SecretStr, StringConstraints, model_validator

from components.backend.spec import ComputeSpec, PinnedImage, ResourcesSpec
from components.cronjob import overdue_after
from components.schedule import CronSchedule, TimeZone
from components.spec import DNS_LABEL, Spec, StorageSpec, rule_error

RCLONE_IMAGE = (
    "rclone/rclone:1.75.1@sha256:45401ad7410db1d67ffdb58e19059ad20b0d8e0285a60e38bbec55cc1019c7a5"
)
BUCKET = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
OBJECT_PREFIX = r"^([A-Za-z0-9!_.*'()-]+/)*$"
TABLE = r"^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$"
TableName = Annotated[str, StringConstraints(pattern=TABLE)]


class OffsiteSpec(Spec):
    """A copy of every dump in S3-compatible object storage, kept by the same retention."""

    enabled: bool = False
    """Copy each dump off the cluster once it is written."""
    bucket: str = Field(default="", pattern=f"{BUCKET}|^$")
    """The bucket; it must exist (the job never creates one, so it needs no such right)."""
    prefix: str = Field(default="", pattern=OBJECT_PREFIX)
    """Key prefix inside the bucket, ending in `/` (e.g. `postgres/prod/`); empty for the top."""
    provider: Literal["AWS", "Cloudflare", "DigitalOcean", "GCS", "Minio", "Wasabi", "Ceph", "Other"] = "AWS"
    """The S3 implementation, as rclone names it: each has its quirks."""
    endpoint: str | None = Field(default=None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    """The store's URL, for anything but AWS (e.g. https://<account>.r2.cloudflarestorage.com)."""
    region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]{1,40}$")
    """The bucket's region (AWS); other stores mostly ignore it."""
    access_key_id: SecretStr | None = None
    """Access key, set with `pulumi config set --secret --path database.backup.offsite.accessKeyId`."""
    secret_access_key: SecretStr | None = None
    """Its secret, set with `pulumi config set --secret --path database.backup.offsite.secretAccessKey`."""
    credentials_secret: str | None = Field(default=None, pattern=DNS_LABEL)
    """Instead of the keys above: a Secret made elsewhere with AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY. With neither, rclone takes the pod's cloud identity (IRSA,
    Workload Identity)."""
    image: PinnedImage = RCLONE_IMAGE
    """rclone's image, pinned."""

    @model_validator(mode="after")
    def _complete(self) -> OffsiteSpec:
        if not self.enabled:
            return self
        if not self.bucket:
            raise rule_error("`bucket` is required when `enabled` is true")
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise rule_error("`accessKeyId` and `secretAccessKey` go together: give both or neither")
        if self.access_key_id is not None and self.credentials_secret:
            raise rule_error("give the keys (`accessKeyId`, `secretAccessKey`) or `credentialsSecret`, not both")
        if self.provider != "AWS" and not self.endpoint:
            raise rule_error(f"`endpoint` is required for `provider` {self.provider} (only AWS has a default)")
        return self

    @property
    def keys_given(self) -> bool:
        return self.access_key_id is not None


class DrillSpec(Spec):
    """A scheduled proof that the latest dump restores: into a scratch PostgreSQL of its own."""

    enabled: bool = False
    """Run the drill on `schedule`; it fails (and alerts) when the dump is missing, too old, or does not restore."""
    schedule: CronSchedule = "0 4 * * 0"
    """When to run it; Sundays at 04:00 by default, after that night's backup."""
    tables: list[TableName] = Field(default=[], max_length=50)
    """Tables that must exist and hold at least one row in the restored copy (`loans` or `schema.loans`)."""
    scratch_size: str = Field(default="10Gi", pattern=r"^[0-9]+(Mi|Gi|Ti)$")
    """Room for the scratch server's data; a restored database is larger than its dump."""
    resources: ResourcesSpec = ResourcesSpec(
        requests=ComputeSpec(cpu="250m", memory="256Mi"), limits=ComputeSpec(cpu="1", memory="1Gi")
    )
    """Requests and limits of the scratch server and the restore."""


class RestoreSpec(Spec):
    """A restore on request: a Job that loads one dump into the app's database."""

    request: str = Field(default="", pattern=r"^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$|^$")
    """Any new value (e.g. `2026-12-02-incident`) runs the restore once; empty runs nothing."""
    dump: str = Field(default="", pattern=r"^[a-z0-9_-]+-[0-9]{8}T[0-9]{6}Z\.dump$|^$")
    """The dump's file name; the newest when empty."""
    from_offsite: bool = False
    """Fetch the dump from the off-site copy (the backup volume is lost, or in another cluster)."""
    allow_non_empty: bool = False
    """Restore over the tables that are there (dropping them first); refused otherwise."""


class BackupSpec(Spec):
    """Scheduled pg_dump backups of the database to a volume of their own."""

    enabled: bool = False
    """Back the database up on `schedule`."""
    schedule: CronSchedule = "0 2 * * *"
    """When; nightly at 02:00 by default."""
    time_zone: TimeZone = "Etc/UTC"
    """The zone `schedule` (and the drill's) is read in. File names are always UTC."""
    retention_days: int = Field(default=30, ge=1, le=3650)
    """Dumps older than this are deleted, locally and off-site..."""
    keep_at_least: int = Field(default=7, ge=1, le=1000)
    """...but never the newest this many, whatever their age."""
    storage: StorageSpec = StorageSpec(size="20Gi")
    """The backup volume, kept like the data volume; it must hold `retentionDays` of dumps."""
    timeout_seconds: int = Field(default=3600, ge=60, le=86400)
    """A run that takes longer is stopped and fails."""
    retries: int = Field(default=1, ge=0, le=5)
    """Attempts after a failed one, before the run counts as failed."""
    resources: ResourcesSpec = ResourcesSpec(
        requests=ComputeSpec(cpu="100m", memory="128Mi"), limits=ComputeSpec(cpu="1", memory="512Mi")
    )
    """Requests and limits of pg_dump and the upload."""
    offsite: OffsiteSpec = OffsiteSpec()
    """The copy off the cluster."""
    drill: DrillSpec = DrillSpec()
    """The restore drill."""
    restore: RestoreSpec = RestoreSpec()
    """A restore on request."""
    volumes: list[Annotated[str, Field(pattern=DNS_LABEL)]] = Field(default=[], max_length=10)
    """App volumes (`app.volumes[].name`, such as uploads) archived in every run beside the dump:
    the same volume, retention and off-site copy; the drill checks the newest archive reads back."""

    @model_validator(mode="after")
    def _restore_has_source(self) -> BackupSpec:
        if self.restore.request and self.restore.from_offsite and not self.offsite.enabled:
            raise rule_error("`restore.fromOffsite` needs `offsite.enabled`")
        return self

    @property
    def drill_stale_after(self) -> timedelta:
        """How long after the drill's last success one has been missed (it never retries)."""
        return overdue_after(self.drill.schedule, self.time_zone, self.drill_timeout_seconds)

    @property
    def drill_timeout_seconds(self) -> int:
        """A restore takes longer than the dump it reads."""
        return self.timeout_seconds * 2

    @property
    def stale_after(self) -> timedelta:
        """How old the newest dump may be before a backup has been missed."""
        return overdue_after(self.schedule, self.time_zone, self.timeout_seconds)
