"""The Backup component: scheduled pg_dump backups of one database, kept on a volume of
their own and optionally copied off-site, a restore drill, and a restore on request. The
app's own volumes (uploads) can ride along: archived in the same run, kept and copied
the same way, and checked by the drill.

The work is done by the scripts in `scripts/`, mounted from a ConfigMap: the tests run
those very files against real servers. Each step is a container of one pod, in order
(init containers run one after another and stop the pod at the first failure), so a
failed dump is never pruned around, uploaded or counted as a backup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pulumi
import pulumi_kubernetes as k8s

from components import network, pod
from components.annotations import checkov_skips
from components.backend.spec import ResourcesSpec
from components.backup.spec import BackupSpec
from components.cronjob import ScheduledJob, cron_job_spec, job_spec
from components.naming import AppIdentity, k8s_name

TYPE = "shipyard:data:Backup"
BACKUP = "backup"
RESTORE = "restore"
DRILL = "restore-drill"
DATABASE_CLIENTS = (BACKUP, RESTORE)
"""Components that connect to the database itself; its network policy must admit them."""
SCRIPTS = Path(__file__).parent / "scripts"
BACKUP_STEPS = ("dump", "prune", "offsite")
ARCHIVE_SUFFIX = ".tar.gz"
SOURCE_DIR = "/source"
SCRIPTS_DIR = "/opt/shipyard/backup"
BACKUP_DIR = "/backups"
SCRATCH_DIR = "/scratch"
STARTING_SLACK_SECONDS = 300
"""Time for a restore pod to be scheduled and pull its images, on top of its deadline."""
UID = 999
"""The postgres image's user; the rclone steps run as the same one, so they share the files."""
UID_SKIP = ("CKV_K8S_40", "runs as the postgres image's own user, UID 999, which owns the dumps it writes")
SKIPS = checkov_skips(
    UID_SKIP,
    ("CKV_K8S_35", "pg_dump, psql and rclone read the database URL and the store's keys from their "
     "environment; they come from Secrets via envFrom, never from literal values"),
)


@dataclass(frozen=True, kw_only=True)
class BackupArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    spec: BackupSpec
    database: str
    """The database's name; dump files are named after it."""
    image: str
    """The database server's image: its pg_dump and pg_restore match the server's version."""
    connection: Sequence[k8s.core.v1.EnvFromSourceArgs]
    """Where DATABASE_URL comes from: the app's Secret of the database."""
    direct: Sequence[k8s.core.v1.EnvVarArgs] = ()
    """Overrides that point past a pooler: pg_dump needs the server itself."""
    database_egress: Sequence[k8s.networking.v1.NetworkPolicyEgressRuleArgs] = ()
    """What a pod needs in its egress policy to reach the database."""
    extensions: Sequence[str] = ()
    """The database's extensions, made in the drill's scratch copy before the restore."""
    protect: bool = False
    """Protect the backup volume and keep it when the stack goes (production)."""
    volumes: Sequence[ArchivedVolume] = ()
    """App volumes archived in every run, beside the dump."""


@dataclass(frozen=True, kw_only=True)
class ArchivedVolume:
    """One of the app's shared volumes, as the backup pod mounts it."""

    name: str
    """Its name in `app.volumes`: the prefix of its archives."""
    claim: pulumi.Input[str]
    run_as: int
    """The app's user, who owns what the app wrote there (uploads may be owner-only)."""


class Backup(pulumi.ComponentResource):
    """CronJob, volume, scripts and network policy for one database's backups."""

    volume_name: pulumi.Output[str]
    cron_job_name: pulumi.Output[str]
    watched: list[ScheduledJob]
    """The backup and the drill, for the alerts on runs that failed or are overdue."""

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._name, self._args, self._spec = name, args, args.spec
        self._object = k8s_name(args.identity.name, BACKUP)
        self._drill_object = k8s_name(args.identity.name, DRILL)
        scripts = k8s.core.v1.ConfigMap(
            f"{name}-scripts",
            metadata=self._metadata(k8s_name(self._object, "scripts"), BACKUP),
            data={path.name: path.read_text() for path in sorted(SCRIPTS.glob("*.sh"))},
            opts=self._child(),
        )
        self._scripts_volume = k8s.core.v1.VolumeArgs(
            name="scripts",
            config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=scripts.metadata.name, default_mode=0o555),
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-volume",
            metadata=self._metadata(k8s_name(args.identity.name, "backups"), BACKUP),
            spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                access_modes=["ReadWriteOnce"],
                storage_class_name=self._spec.storage.storage_class,
                resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": self._spec.storage.size}),
            ),
            opts=self._keep(),
        )
        self._claim = claim.metadata.name
        account = k8s.core.v1.ServiceAccount(
            f"{name}-service-account",
            metadata=self._metadata(self._object, BACKUP),
            automount_service_account_token=False,
            opts=self._child(),
        )
        self._account = account.metadata.name
        self._offsite_secret: list[k8s.core.v1.EnvFromSourceArgs] = []
        self._offsite_env = self._offsite_credentials() if self._spec.offsite.enabled else []

        cron_job = self._backup_cron_job()
        runbook = (f"kubectl -n <namespace> logs job/<job>: each step ({', '.join(self._step_names())}) says what failed. "
                   f"Take a backup now with kubectl create job --from=cronjob/{self._object} {self._object}-now")
        self.watched = [ScheduledJob(cron_job=self._object, title=f"backup of {args.database}",
                                     stale_seconds=int(self._spec.stale_after.total_seconds()), runbook=runbook)]
        if self._spec.drill.enabled:
            self._drill_cron_job()
            self.watched.append(ScheduledJob(
                cron_job=self._drill_object, title=f"restore drill of {args.database}",
                stale_seconds=int(self._spec.drill_stale_after.total_seconds()),
                runbook="kubectl -n <namespace> logs job/<job>: the drill's last line says what failed (no dump, "
                        "a dump too old, a restore error, a missing or empty table); a failed restore means the "
                        "backups cannot be trusted until it passes again.",
            ))
        if self._spec.restore.request:
            self._restore_job()
        self._network_policy()

        self.volume_name = claim.metadata.name
        self.cron_job_name = cron_job.metadata.name
        self.register_outputs({"volume_name": self.volume_name, "cron_job_name": self.cron_job_name})

    # -- helpers -------------------------------------------------------------------

    def _step_names(self) -> list[str]:
        dump, *rest = BACKUP_STEPS
        return [dump, *(f"archive-{v.name}" for v in self._args.volumes), *rest]

    def _child(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **kwargs)

    def _keep(self) -> pulumi.ResourceOptions:
        """Data and credentials: protected, and left in the cluster when the stack goes (production)."""
        return self._child(protect=self._args.protect, retain_on_delete=self._args.protect)

    def _metadata(self, name: str, component: str, annotations: dict[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=self._args.namespace, labels=self._args.identity.labels(component), annotations=annotations
        )

    def _common_env(self, volume: ArchivedVolume | None = None) -> list[k8s.core.v1.EnvVarArgs]:
        """What every script reads: the files of the database's dumps, or of `volume`'s archives."""
        spec = self._spec
        values = {
            "BACKUP_DIR": BACKUP_DIR,
            "BACKUP_PREFIX": volume.name if volume else self._args.database,
            **({"BACKUP_SUFFIX": ARCHIVE_SUFFIX} if volume else {}),
            "RETENTION_DAYS": str(spec.retention_days),
            "KEEP_AT_LEAST": str(spec.keep_at_least),
            # The rclone image has no home of its own for a user it does not know.
            "HOME": "/tmp",
        }
        return [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in values.items()]

    def _step(
        self,
        name: str,
        script: str,
        *,
        image: str,
        env: Sequence[k8s.core.v1.EnvVarArgs] = (),
        env_from: Sequence[k8s.core.v1.EnvFromSourceArgs] = (),
        volumes: Sequence[k8s.core.v1.VolumeMountArgs] = (),
        resources: ResourcesSpec | None = None,
        archived: ArchivedVolume | None = None,
        run_as: int = UID,
    ) -> k8s.core.v1.ContainerArgs:
        """One script of `scripts/`, run with sh from the mounted ConfigMap; about the
        `archived` volume's files rather than the dumps when given."""
        limits = resources or self._spec.resources
        return k8s.core.v1.ContainerArgs(
            name=name,
            image=image,
            image_pull_policy="IfNotPresent",
            command=["sh", f"{SCRIPTS_DIR}/{script}"],
            env_from=list(env_from) or None,
            env=[*self._common_env(archived), *env],
            resources=pod.resource_requirements(limits.requests.model_dump(), limits.limits.model_dump()),
            security_context=pod.container_security_context(run_as),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="scripts", mount_path=SCRIPTS_DIR, read_only=True),
                pod.tmp_mount(),
                *volumes,
            ],
        )

    def _dump_volume(self, read_only: bool = False) -> k8s.core.v1.VolumeMountArgs:
        return k8s.core.v1.VolumeMountArgs(name="backups", mount_path=BACKUP_DIR, read_only=read_only or None)

    def _database_step(self, name: str, script: str, env: Sequence[k8s.core.v1.EnvVarArgs] = (),
                       read_only: bool = False) -> k8s.core.v1.ContainerArgs:
        return self._step(
            name, script, image=self._args.image, env_from=self._args.connection,
            env=[*self._args.direct, *env], volumes=[self._dump_volume(read_only)],
        )

    def _offsite_step(self, name: str, script: str, env: Sequence[k8s.core.v1.EnvVarArgs] = (),
                      archived: ArchivedVolume | None = None) -> k8s.core.v1.ContainerArgs:
        return self._step(
            name, script, image=self._spec.offsite.image, env=[*self._offsite_env, *env],
            env_from=self._offsite_secret, volumes=[self._dump_volume()], archived=archived,
        )

    def _archive_steps(self) -> tuple[list[k8s.core.v1.ContainerArgs], list[k8s.core.v1.ContainerArgs]]:
        """Each app volume's archive (as the app's user, the volume read-only), and its pruning."""
        archive, prune = [], []
        for volume in self._args.volumes:
            source = k8s.core.v1.VolumeMountArgs(name=f"source-{volume.name}", mount_path=f"{SOURCE_DIR}/{volume.name}",
                                                 read_only=True)
            archive.append(self._step(
                f"archive-{volume.name}", "archive.sh", image=self._args.image, archived=volume, run_as=volume.run_as,
                env=[k8s.core.v1.EnvVarArgs(name="SOURCE_DIR", value=f"{SOURCE_DIR}/{volume.name}")],
                volumes=[self._dump_volume(), source],
            ))
            prune.append(self._step(f"prune-{volume.name}", "prune.sh", image=self._args.image, archived=volume,
                                    volumes=[self._dump_volume()]))
        return archive, prune

    def _source_volumes(self) -> list[k8s.core.v1.VolumeArgs]:
        return [
            k8s.core.v1.VolumeArgs(
                name=f"source-{volume.name}",
                persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(claim_name=volume.claim, read_only=True),
            )
            for volume in self._args.volumes
        ]

    def _offsite_credentials(self) -> list[k8s.core.v1.EnvVarArgs]:
        """rclone's remote `offsite`, from environment variables; the keys come from a
        Secret (the stack's, or one made elsewhere), or the pod's cloud identity."""
        offsite = self._spec.offsite
        secret_name: pulumi.Input[str] | None = offsite.credentials_secret
        if offsite.keys_given:
            secret = k8s.core.v1.Secret(
                f"{self._name}-offsite-credentials",
                metadata=self._metadata(k8s_name(self._object, "offsite"), BACKUP),
                type="Opaque",
                string_data=pulumi.Output.secret({
                    "AWS_ACCESS_KEY_ID": offsite.access_key_id.get_secret_value(),  # type: ignore[union-attr]
                    "AWS_SECRET_ACCESS_KEY": offsite.secret_access_key.get_secret_value(),  # type: ignore[union-attr]
                }),
                opts=self._keep(),
            )
            secret_name = secret.metadata.name
        self._offsite_secret = (
            [k8s.core.v1.EnvFromSourceArgs(secret_ref=k8s.core.v1.SecretEnvSourceArgs(name=secret_name))]
            if secret_name else []
        )
        settings = {
            "RCLONE_CONFIG_OFFSITE_TYPE": "s3",
            "RCLONE_CONFIG_OFFSITE_PROVIDER": offsite.provider,
            "RCLONE_CONFIG_OFFSITE_ENV_AUTH": "true",
            "RCLONE_CONFIG_OFFSITE_REGION": offsite.region,
            **({"RCLONE_CONFIG_OFFSITE_ENDPOINT": offsite.endpoint} if offsite.endpoint else {}),
            "OFFSITE_PATH": f"{offsite.bucket}/{offsite.prefix}",
        }
        return [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in settings.items()]

    def _template(
        self, component: str, steps: Sequence[k8s.core.v1.ContainerArgs], volumes: Sequence[k8s.core.v1.VolumeArgs]
    ) -> k8s.core.v1.PodTemplateSpecArgs:
        """One pod that runs `steps` in order: all but the last as init containers."""
        return k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=self._args.identity.labels(component)),
            spec=k8s.core.v1.PodSpecArgs(
                service_account_name=self._account,
                automount_service_account_token=False,
                enable_service_links=False,
                restart_policy="Never",
                security_context=pod.pod_security_context(UID),
                init_containers=list(steps[:-1]) or None,
                containers=[steps[-1]],
                volumes=[self._scripts_volume, pod.tmp_volume(), *volumes],
            ),
        )

    def _backups_volume(self, read_only: bool = False) -> k8s.core.v1.VolumeArgs:
        return k8s.core.v1.VolumeArgs(
            name="backups",
            persistent_volume_claim=k8s.core.v1.PersistentVolumeClaimVolumeSourceArgs(
                claim_name=self._claim, read_only=read_only or None
            ),
        )

    # -- the jobs ------------------------------------------------------------------

    def _backup_cron_job(self) -> k8s.batch.v1.CronJob:
        spec = self._spec
        archive, prune = self._archive_steps()
        steps = [self._database_step("dump", "backup.sh"), *archive, self._database_step("prune", "prune.sh"), *prune]
        if spec.offsite.enabled:
            steps.append(self._offsite_step("offsite", "offsite.sh"))
            steps += [self._offsite_step(f"offsite-{v.name}", "offsite.sh", archived=v) for v in self._args.volumes]
        template = self._template(BACKUP, steps, [self._backups_volume(), *self._source_volumes()])
        return k8s.batch.v1.CronJob(
            f"{self._name}-cron-job",
            metadata=self._metadata(self._object, BACKUP, SKIPS),
            spec=cron_job_spec(
                job_spec(template, timeout_seconds=spec.timeout_seconds, retries=spec.retries),
                schedule=spec.schedule,
                time_zone=spec.time_zone,
            ),
            opts=self._child(),
        )

    def _drill_cron_job(self) -> None:
        spec, drill = self._spec, self._spec.drill
        env = {
            "MAX_AGE_SECONDS": str(int(spec.stale_after.total_seconds())),
            "SCRATCH_DIR": SCRATCH_DIR,
            "TABLES": " ".join(drill.tables),
            "EXTENSIONS": " ".join(self._args.extensions),
        }
        step = self._step(
            "drill", "drill.sh", image=self._args.image,
            # An empty list is no variable at all (the script reads both with a default):
            # the engine leaves an empty value out, and the objects must be what it sends.
            env=[k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in env.items() if v],
            volumes=[self._dump_volume(read_only=True), k8s.core.v1.VolumeMountArgs(name="scratch", mount_path=SCRATCH_DIR)],
            resources=drill.resources,
        )
        scratch = k8s.core.v1.VolumeArgs(
            name="scratch", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=drill.scratch_size)
        )
        checks = [
            self._step(f"check-{volume.name}", "verify-archive.sh", image=self._args.image, archived=volume,
                       env=[k8s.core.v1.EnvVarArgs(name="MAX_AGE_SECONDS", value=env["MAX_AGE_SECONDS"])],
                       volumes=[self._dump_volume(read_only=True)])
            for volume in self._args.volumes
        ]
        template = self._template(DRILL, [*checks, step], [self._backups_volume(read_only=True), scratch])
        k8s.batch.v1.CronJob(
            f"{self._name}-drill",
            metadata=self._metadata(self._drill_object, DRILL, checkov_skips(UID_SKIP)),
            spec=cron_job_spec(
                # A drill that fails once has found what it is for: no retry hides it.
                job_spec(template, timeout_seconds=spec.drill_timeout_seconds, retries=0),
                schedule=drill.schedule,
                time_zone=spec.time_zone,
            ),
            opts=self._child(),
        )

    def _restore_job(self) -> None:
        """Runs once per `restore.request`: a new request is a new Job (a new name).

        Later changes to the pod (a new image, new retention) must not replace a Job that
        has already restored, or the next `up` would restore again; so they are ignored.
        """
        restore = self._spec.restore
        env = [k8s.core.v1.EnvVarArgs(name="ALLOW_NONEMPTY", value="1" if restore.allow_non_empty else "0")]
        if restore.dump:
            env.append(k8s.core.v1.EnvVarArgs(name="DUMP", value=restore.dump))
        if restore.from_offsite:
            # Fetched into the pod's own scratch volume, where the restore then reads it.
            volumes = [k8s.core.v1.VolumeArgs(name="backups", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())]
            steps = [self._offsite_step("fetch", "fetch.sh", env)]
        else:
            volumes, steps = [self._backups_volume(read_only=True)], []
        steps.append(self._database_step("restore", "restore.sh", env, read_only=True))
        template = self._template(RESTORE, steps, volumes)
        k8s.batch.v1.Job(
            f"{self._name}-restore-{restore.request}",
            metadata=self._metadata(k8s_name(self._args.identity.name, RESTORE, restore.request), RESTORE, SKIPS),
            spec=job_spec(template, timeout_seconds=self._spec.drill_timeout_seconds, retries=0),
            # `up` waits for the restore to finish, for as long as the Job may run (the
            # engine's own limit for a Job is ten minutes).
            opts=self._child(ignore_changes=["spec"], custom_timeouts=pulumi.CustomTimeouts(
                create=f"{self._spec.drill_timeout_seconds + STARTING_SLACK_SECONDS}s")),
        )

    def _network_policy(self) -> None:
        """Backups and restores reach the database, and the object store when there is
        one; the drill reaches nothing (its server is in its own pod). Nothing reaches them."""
        egress = list(self._args.database_egress)
        if self._spec.offsite.enabled:
            egress.append(offsite_egress(self._spec.offsite.endpoint))
        for component, allowed in ((BACKUP, egress), (DRILL, [])):
            clients = [BACKUP, RESTORE] if component == BACKUP else [DRILL]
            k8s.networking.v1.NetworkPolicy(
                f"{self._name}-{component}-network-policy",
                metadata=self._metadata(k8s_name(self._args.identity.name, component), component),
                spec=network.policy_spec(
                    network.components_selector(self._args.identity.app_selector(), clients), ingress=[], egress=allowed
                ),
                opts=self._child(),
            )


def offsite_egress(endpoint: str | None) -> k8s.networking.v1.NetworkPolicyEgressRuleArgs:
    """HTTPS (or the endpoint's own port) to public addresses, where object stores are."""
    port = 443
    if endpoint:
        parts = urlsplit(endpoint)
        port = parts.port or (80 if parts.scheme == "http" else 443)
    rule = network.internet_egress()
    return k8s.networking.v1.NetworkPolicyEgressRuleArgs(to=rule.to, ports=network.tcp(port))
