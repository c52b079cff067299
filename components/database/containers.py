"""The containers and volumes of the database's pods: the server, its exporter, and the
steps that run before them (the replication role, a standby's seed, a migration's wait)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from components import pod
from components.backend.spec import ComputeSpec, ResourcesSpec
from components.database import init, replication
from components.database.spec import DatabaseSpec
from components.datastore import IMAGE_UID, exporter

PORT = 5432
METRICS_PORT = 9187
DATA_DIR = "/var/lib/postgresql/data"
PGDATA = f"{DATA_DIR}/pgdata"
SOCKET_DIR = "/var/run/postgresql"
SEED_RESOURCES = ResourcesSpec(requests=ComputeSpec(cpu="100m", memory="128Mi"), limits=ComputeSpec(cpu="1", memory="512Mi"))
"""pg_basebackup streams files; it holds little in memory."""


def mount(name: str, path: str, sub_path: str | None = None, read_only: bool | None = None) -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name=name, mount_path=path, sub_path=sub_path, read_only=read_only)


def config_mounts(files: Sequence[str]) -> list[k8s.core.v1.VolumeMountArgs]:
    """Files of the config volume, each at its name in the config directory."""
    return [mount("config", f"{init.CONFIG_DIR}/{name}", name) for name in files]


def server_volumes(
    config_name: pulumi.Input[str], secret_name: pulumi.Input[str], secret_keys: Sequence[str] | None = None
) -> list[k8s.core.v1.VolumeArgs]:
    """The rendered files, the passwords (only `secret_keys` of them when given), the
    socket directory and /tmp."""
    return [
        # Executable, so the image's entrypoint runs init.sh in its own shell
        # instead of sourcing it into its own.
        k8s.core.v1.VolumeArgs(
            name="config",
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_name, default_mode=0o555),
        ),
        k8s.core.v1.VolumeArgs(
            name="secrets",
            secret=k8s.core.v1.SecretVolumeSourceArgs(
                secret_name=secret_name, default_mode=0o400,
                items=[k8s.core.v1.KeyToPathArgs(key=key, path=key) for key in secret_keys] if secret_keys else None,
            ),
        ),
        k8s.core.v1.VolumeArgs(name="run", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()),
        pod.tmp_volume(),
    ]


def server(
    spec: DatabaseSpec, config_files: Sequence[str], resources: ResourcesSpec, *, initialises: bool = False,
    extra_mounts: Sequence[k8s.core.v1.VolumeMountArgs] = (),
) -> k8s.core.v1.ContainerArgs:
    """The server container; `initialises` a new volume with the image's entrypoint
    (a standby's volume is seeded from the primary instead)."""
    ready = ["pg_isready", "--host=127.0.0.1", f"--port={PORT}", "--username=postgres"]
    probes = pod.exec_probes(ready, period_seconds=10, timeout_seconds=5)
    first_start = [
        k8s.core.v1.EnvVarArgs(name="POSTGRES_USER", value="postgres"),
        k8s.core.v1.EnvVarArgs(name="POSTGRES_PASSWORD_FILE", value=f"{init.SECRETS_DIR}/admin-password"),
        k8s.core.v1.EnvVarArgs(name="POSTGRES_DB", value=spec.name),
        k8s.core.v1.EnvVarArgs(name="APP_USER", value=spec.user),
    ] if initialises else []
    return k8s.core.v1.ContainerArgs(
        name="postgres",
        image=spec.server_image,
        image_pull_policy="IfNotPresent",
        args=["postgres", "-c", f"config_file={init.CONFIG_DIR}/postgresql.conf"],
        env=[*first_start, k8s.core.v1.EnvVarArgs(name="PGDATA", value=PGDATA)],
        ports=[k8s.core.v1.ContainerPortArgs(name="postgres", container_port=PORT, protocol="TCP")],
        resources=pod.resource_requirements(resources.requests.model_dump(), resources.limits.model_dump()),
        # Recovery after an unclean stop can take minutes; give it ten before liveness counts.
        startup_probe=k8s.core.v1.ProbeArgs(
            exec_=k8s.core.v1.ExecActionArgs(command=ready), period_seconds=10, failure_threshold=60, timeout_seconds=5
        ),
        readiness_probe=probes.readiness,
        liveness_probe=probes.liveness,
        # SIGTERM is PostgreSQL's "smart" shutdown, which waits for every client to
        # leave; a fast shutdown ends sessions and checkpoints before the grace runs out.
        lifecycle=k8s.core.v1.LifecycleArgs(
            pre_stop=k8s.core.v1.LifecycleHandlerArgs(
                exec_=k8s.core.v1.ExecActionArgs(command=["pg_ctl", "stop", "--mode=fast", "--wait", "--timeout=60"])
            )
        ),
        security_context=pod.container_security_context(IMAGE_UID),
        volume_mounts=[
            mount("data", DATA_DIR),
            *config_mounts(config_files),
            *([mount("config", "/docker-entrypoint-initdb.d/10-init.sh", "init.sh")] if initialises else []),
            mount("secrets", init.SECRETS_DIR, read_only=True),
            mount("run", SOCKET_DIR),
            pod.tmp_mount(),
            *extra_mounts,
        ],
    )


def metrics_exporter(spec: DatabaseSpec) -> k8s.core.v1.ContainerArgs:
    """postgres-exporter beside the server, as the read-only monitoring role."""
    return exporter(
        spec.exporter_image,
        {"DATA_SOURCE_URI": f"127.0.0.1:{PORT}/{spec.name}?sslmode=disable",
         "DATA_SOURCE_USER": init.MONITORING_ROLE,
         "DATA_SOURCE_PASS_FILE": f"{init.SECRETS_DIR}/monitor-password"},
        METRICS_PORT, "/", init.SECRETS_DIR,
    )


def _step(spec: DatabaseSpec, name: str, script: str, env: dict[str, pulumi.Input[str]],
          mounts: list[k8s.core.v1.VolumeMountArgs], resources: ResourcesSpec) -> k8s.core.v1.ContainerArgs:
    """A script run by the server's image (its client tools match the server), as its user."""
    return k8s.core.v1.ContainerArgs(
        name=name,
        image=spec.server_image,
        image_pull_policy="IfNotPresent",
        command=["sh", "-c", script],
        env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in env.items()],
        resources=pod.resource_requirements(resources.requests.model_dump(), resources.limits.model_dump()),
        security_context=pod.container_security_context(IMAGE_UID),
        volume_mounts=mounts,
    )


def ensure_replication_role(spec: DatabaseSpec, config_files: Sequence[str]) -> k8s.core.v1.ContainerArgs:
    """The primary's step before the server: the replication role, as its Secret says."""
    # The server's own resources: replaying an unclean stop's WAL takes its shared_buffers.
    return _step(
        spec, "replication-role", replication.ensure_role_script(), {"PGDATA": PGDATA},
        [mount("data", DATA_DIR), *config_mounts(config_files), mount("secrets", init.SECRETS_DIR, read_only=True),
         mount("run", SOCKET_DIR), pod.tmp_mount()],
        spec.resources,
    )


def seed(spec: DatabaseSpec, primary_host: pulumi.Input[str], passfile: k8s.core.v1.VolumeMountArgs) -> k8s.core.v1.ContainerArgs:
    """A standby's step before its server: a base backup of the primary on an empty volume."""
    return _step(
        spec, "seed", replication.seed_script(),
        {"PGDATA": PGDATA, "PRIMARY_HOST": primary_host, "PRIMARY_PORT": str(PORT),
         "PGPASSFILE": f"{replication.PASSFILE_DIR}/pgpass"},
        [mount("data", DATA_DIR), mount("secrets", init.SECRETS_DIR, read_only=True), passfile, pod.tmp_mount()],
        SEED_RESOURCES,
    )


def wait_until_ready(spec: DatabaseSpec, host: pulumi.Input[str]) -> k8s.core.v1.ContainerArgs:
    """An init container that holds a migration until the server accepts connections.

    The engine already creates the migration after the StatefulSet is ready; this
    covers a server that restarts in between. The Job's deadline bounds the wait.
    """
    return k8s.core.v1.ContainerArgs(
        name="wait-for-database",
        image=spec.server_image,
        image_pull_policy="IfNotPresent",
        command=["sh", "-c", f'until pg_isready --host="$DATABASE_HOST" --port={PORT} --timeout=5; do sleep 2; done'],
        env=[k8s.core.v1.EnvVarArgs(name="DATABASE_HOST", value=host)],
        resources=pod.resource_requirements({"cpu": "10m", "memory": "16Mi"}, {"cpu": "100m", "memory": "64Mi"}),
        security_context=pod.container_security_context(IMAGE_UID),
    )
