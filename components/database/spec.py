"""What a stack can ask of its PostgreSQL database."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    create_model,
    model_validator,
)

from components.backend.spec import (
    DIGEST_RULE,
    ComputeSpec,
    PinnedImage,
    ResourcesSpec,
    has_digest,
)
from components.backup.spec import BackupSpec
from components.database import tuning
from components.spec import Spec, StorageSpec, is_production, rule_error

IDENTIFIER = r"^[a-z_][a-z0-9_]{0,62}$"
# Official images pinned by digest, by PostgreSQL major version.
POSTGRES_IMAGES = {
    17: "postgres:17.6-bookworm@sha256:f3bd19c606e442c3d7bdfa8002e03fe260a1023351e0ea4598032022b68dd6e3",
}
EXPORTER_IMAGE = (
    "quay.io/prometheuscommunity/postgres-exporter:v0.17.1"
    "@sha256:38606faa38c54787525fb0ff2fd6b41b4cfb75d455c1df294927c5f611699b17"
)
PGBOUNCER_EXPORTER_IMAGE = "quay.io/prometheuscommunity/pgbouncer-exporter:v0.11.0"
"""Tag only: production asks for its digest, from the registry you pull it from."""
PGBOUNCER_IMAGE = (
    "edoburu/pgbouncer:v1.23.1-p2@sha256:122bac472cfb0b92dca81a72421c93c3c5a840899e2002690a39742427cfcd49"
)
# Extensions shipped with the official image (contrib) that apps commonly create.
EXTENSIONS = Literal[
    "pg_stat_statements", "uuid-ossp", "pgcrypto", "citext", "pg_trgm", "hstore",
    "btree_gin", "btree_gist", "unaccent", "fuzzystrmatch", "ltree", "intarray", "tablefunc",
]
# Server connections that do not come from PgBouncer's pools, which the pools must
# leave free: a small, fixed headroom rather than a guess at every tool's habits.
DIRECT_CONNECTIONS = {
    # PostgreSQL keeps these for superusers: the admin's way in when all else is taken.
    "superuser_reserved_connections": tuning.SUPERUSER_RESERVED_CONNECTIONS,
    "exporter": 1,  # postgres-exporter, as the monitoring role
    "migration": 1,  # the migration Job, on the direct URL (transaction pooling breaks it)
    "maintenance": 1,  # a pg_dump or an operator's psql as the app's role
}
RESERVE_POOL_SIZE = 0
"""PgBouncer's reserve pool per database and user, written to pgbouncer.ini: none, so
`defaultPoolSize` alone bounds what a pooler pod opens."""
# Where a setting's default does not come from the server's size alone.
_TUNING_NOTES = {
    "max_connections": f"{tuning.DEFAULT_MAX_CONNECTIONS} when not set; PgBouncer's pools must fit in it",
    "shared_preload_libraries": (
        "when not set, pg_stat_statements if `extensions` has it, else nothing; kept as given when set"
    ),
}


def _describe_setting(name: str, kind: str) -> str:
    note = _TUNING_NOTES.get(name)
    return f"PostgreSQL `{name}` ({kind})" + (f"; {note}" if note else "")


def _setting(name: str):
    return Annotated[str | int | float | None, AfterValidator(lambda v: None if v is None else tuning.check_value(name, v))]


TuningSpec = create_model(
    "TuningSpec",
    __config__=ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True),
    __doc__=(
        "postgresql.conf settings by their PostgreSQL names; unset ones are derived from the memory limit and "
        "volume, and `shared_preload_libraries` from `extensions`."
    ),
    **{
        name: (_setting(name), Field(default=None, description=_describe_setting(name, kind)))
        for name, kind in tuning.SETTINGS.items()
    },
)


class PgBouncerExporterSpec(Spec):
    """prometheus-community's pgbouncer_exporter beside each PgBouncer, reading its admin console
    as a stats-only user."""

    enabled: bool = False
    """Run it (metrics on port 9127: pools, waiting clients, stats), for a ServiceMonitor to scrape."""
    image: PinnedImage = PGBOUNCER_EXPORTER_IMAGE
    """Its image; in production pinned by digest (`...:v0.11.0@sha256:...`)."""

    @model_validator(mode="after")
    def _digest_in_production(self, info: ValidationInfo) -> PgBouncerExporterSpec:
        if self.enabled and is_production(info) and not has_digest(self.image):
            raise rule_error(f"`image` ({self.image}) {DIGEST_RULE}")
        return self


class PgBouncerSpec(Spec):
    """A connection pooler in front of the database; apps then connect through it."""

    enabled: bool = False
    """Run PgBouncer and give apps its URL (migrations and backups keep the direct one)."""
    pool_mode: Literal["transaction", "session"] = "transaction"
    """`transaction` shares server connections between transactions, as the FastAPI guide asks."""
    max_client_conn: int = Field(default=1000, ge=10, le=100000)
    """Client connections PgBouncer accepts in total."""
    default_pool_size: int = Field(default=20, ge=1, le=1000)
    """Server connections per database and user, in each PgBouncer pod: `replicas` x this,
    plus a few connections outside the pools, must fit in `tuning.max_connections`."""
    replicas: int = Field(default=2, ge=1, le=20)
    """PgBouncer pods; each opens its own pool."""
    image: PinnedImage = PGBOUNCER_IMAGE
    """PgBouncer image, pinned."""
    exporter: PgBouncerExporterSpec = PgBouncerExporterSpec()
    """A metrics exporter beside each PgBouncer."""

    @property
    def server_connections_per_pod(self) -> int:
        """The most server connections one pod opens: one database and one user (the
        app's) make one pool, capped in pgbouncer.ini by `max_db_connections`."""
        return self.default_pool_size + RESERVE_POOL_SIZE

    @property
    def server_connections(self) -> int:
        return self.replicas * self.server_connections_per_pod


class ReplicaSpec(Spec):
    """Read-only standbys: each streams the primary's WAL, seeded from it with pg_basebackup.

    The app reads through `DATABASE_READ_URL`; what it reads may lag the primary by a few
    milliseconds, so reads that must see the app's own last write stay on `DATABASE_URL`.
    """

    enabled: bool = False
    """Run read replicas and give the app their URL (`DATABASE_READ_URL`, `ASYNC_DATABASE_READ_URL`)."""
    replicas: int = Field(default=1, ge=1, le=5)
    """Standby servers behind the read URL; each holds a whole copy of the data."""
    resources: ResourcesSpec | None = None
    """Requests and limits of each standby; the primary's when not given (memory tuning follows them)."""


class DatabaseSpec(Spec):
    """PostgreSQL: in the cluster (a StatefulSet with one primary) or an external managed server."""

    enabled: bool = False
    """Give the app a database."""
    mode: Literal["in-cluster", "external"] = "in-cluster"
    """`external` for a managed server (RDS, Cloud SQL) reached through `url`."""
    version: int = Field(default=17, ge=14, le=18)
    """PostgreSQL major version."""
    image: PinnedImage | None = None
    """Server image; the pinned official image of `version` when not given."""
    name: str = Field(default="app", pattern=IDENTIFIER)
    """Database name."""
    user: str = Field(default="app", pattern=IDENTIFIER)
    """The app's role: owns the database, is not a superuser."""
    storage: StorageSpec = StorageSpec()
    """The data volume."""
    resources: ResourcesSpec = ResourcesSpec(
        requests=ComputeSpec(cpu="250m", memory="512Mi"), limits=ComputeSpec(cpu="2", memory="1Gi")
    )
    """Requests and limits of the server; memory tuning is derived from the memory limit."""
    tuning: TuningSpec = TuningSpec()  # type: ignore[valid-type]
    """postgresql.conf overrides, by PostgreSQL setting name."""
    extensions: list[EXTENSIONS] = ["pg_stat_statements"]
    """Extensions created in the app's database at first start. pg_stat_statements is
    also preloaded (`shared_preload_libraries`) only when it is listed here, unless
    `tuning.shared_preload_libraries` says otherwise."""
    pgbouncer: PgBouncerSpec = PgBouncerSpec()
    """Optional connection pooler."""
    url: SecretStr | None = None
    """External mode: the server's URL, set with `pulumi config set --secret --path database.url`."""
    exporter_image: PinnedImage = EXPORTER_IMAGE
    """postgres-exporter image for the metrics sidecar, pinned."""
    backup: BackupSpec = BackupSpec()
    """Scheduled dumps, their off-site copy, the restore drill, a restore on request."""
    replica: ReplicaSpec = ReplicaSpec()
    """Streaming read replicas of an in-cluster database (a managed server's come from its provider)."""

    @model_validator(mode="after")
    def _mode_fits(self, info: ValidationInfo) -> DatabaseSpec:
        if not self.enabled:
            return self
        if self.mode == "external":
            url = self.url.get_secret_value() if self.url else ""
            if not url.startswith(("postgresql://", "postgres://")):
                raise rule_error("`url` must be a postgresql:// URL when `mode` is external")
            if self.replica.enabled:
                raise rule_error("`replica` is for an in-cluster database; a managed server's replicas come from its provider")
            return self
        if self.url is not None:
            raise rule_error("`url` is only for `mode` external; an in-cluster database makes its own")
        if self.image is None and self.version not in POSTGRES_IMAGES:
            raise rule_error(f"`image` is required for `version` {self.version} (a pinned postgres image)")
        if is_production(info) and not has_digest(self.server_image):
            raise rule_error(f"`image` ({self.server_image}) {DIGEST_RULE}")
        preload = str(self.settings_overrides().get("shared_preload_libraries", ""))
        if "pg_stat_statements" in self.extensions and "pg_stat_statements" not in preload:
            raise rule_error("`extensions` has pg_stat_statements, so `tuning.shared_preload_libraries` must list it")
        return self

    @model_validator(mode="after")
    def _pools_fit_server(self) -> DatabaseSpec:
        if not (self.enabled and self.mode == "in-cluster" and self.pgbouncer.enabled):
            return self
        problem = _pool_problem(self.pgbouncer, self._explicit_tuning())
        if problem:
            raise rule_error(problem)
        return self

    @property
    def replica_resources(self) -> ResourcesSpec:
        return self.replica.resources or self.resources

    @property
    def server_image(self) -> str:
        return self.image or POSTGRES_IMAGES.get(self.version, f"postgres:{self.version}-bookworm")

    def settings_overrides(self) -> dict[str, str]:
        """The settings config decides, rather than the server's size: what `extensions`
        needs preloaded, then every `tuning` setting as given."""
        return {**tuning.preload_for(self.extensions), **self._explicit_tuning()}

    def _explicit_tuning(self) -> dict[str, str]:
        return {k: v for k, v in self.tuning.model_dump().items() if v is not None}


def _pool_problem(pooler: PgBouncerSpec, tuned: dict[str, str]) -> str | None:
    """Why PgBouncer's pools could take more connections than the server has, if they could.

    A server at `max_connections` refuses the next connection, so a pooler allowed
    more would fail clients under load, exactly when the pool is needed.
    """
    limit = tuning.connection_limit(tuned)
    direct = sum(DIRECT_CONNECTIONS.values())
    if pooler.server_connections + direct <= limit:
        return None
    shown_limit = f"{limit}" if "max_connections" in tuned else f"{limit}, the default"
    per_pod = f"`pgbouncer.defaultPoolSize` ({pooler.default_pool_size})"
    if RESERVE_POOL_SIZE:
        per_pod = f"({per_pod} + {RESERVE_POOL_SIZE} in reserve)"
    breakdown = ", ".join(f"{name} {count}" for name, count in DIRECT_CONNECTIONS.items())
    fitting = (limit - direct) // pooler.replicas - RESERVE_POOL_SIZE
    remedy = f"lower `pgbouncer.defaultPoolSize` to {fitting} or " if fitting >= 1 else ""
    return (
        f"`pgbouncer.replicas` ({pooler.replicas}) x {per_pod} = "
        f"{pooler.server_connections} server connections, plus {direct} outside the pools ({breakdown}), "
        f"must be <= `tuning.max_connections` ({shown_limit}): {remedy}raise `tuning.max_connections` "
        f"to {pooler.server_connections + direct}"
    )
