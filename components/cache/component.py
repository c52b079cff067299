"""The Cache component: Redis in the cluster, or the URLs of a managed one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import pulumi
import pulumi_kubernetes as k8s

from components import pod
from components.cache import config
from components.cache.spec import CacheSpec
from components.datastore import (
    IMAGE_UID,
    DataStore,
    StoreArgs,
    exporter,
    retained_claim,
)
from components.fingerprint import fingerprint
from components.naming import k8s_name

TYPE = "shipyard:data:Cache"
# Each role is its own Redis server: the cache may evict, the broker never does.
OBJECT_SUFFIX = {"cache": "redis", "broker": "broker"}
METRICS_PORT = 9121
SECRETS_DIR = "/run/secrets/redis"
SINGLE_PRIMARY = "single primary: one Redis server; replicas would need Sentinel for failover"


@dataclass(frozen=True, kw_only=True)
class CacheArgs(StoreArgs):
    spec: CacheSpec
    role: Literal["cache", "broker"] = "cache"
    """The component label and the object names: `<app>-redis` for the cache, `<app>-broker`."""


class Cache(DataStore):
    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(
            TYPE, name, args, component=args.role, object_name=k8s_name(args.identity.name, OBJECT_SUFFIX[args.role]), opts=opts
        )
        self._spec = args.spec
        self._build(args.spec.mode)

    def _external(self) -> None:
        url = urlsplit(self._spec.url.get_secret_value())  # type: ignore[union-attr]
        self._app_secret({name: urlunsplit(url._replace(path=f"/{db}")) for name, db in self._spec.urls.items()})
        self._external_egress(url.port or config.PORT)

    def _in_cluster(self) -> None:
        spec = self._spec
        app_password, exporter_password = self._password("app"), self._password("exporter")
        self._app_secret(
            pulumi.Output.all(app_password, self._host(self._object)).apply(lambda v: config.app_urls(spec, v[0], v[1]))
        )
        server_secret = k8s.core.v1.Secret(
            f"{self._name}-server-secret",
            metadata=self._metadata(k8s_name(self._object, "server")),
            type="Opaque",
            string_data={
                "users.acl": pulumi.Output.all(app_password, exporter_password).apply(lambda v: config.acl_file(spec, *v)),
                "password": app_password,
                # redis_exporter's password file: address -> password
                "exporter.json": exporter_password.apply(lambda p: json.dumps({f"redis://127.0.0.1:{config.PORT}": p})),
            },
            opts=self._keep,
        )
        conf = config.redis_conf(spec)
        config_map = k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._metadata(k8s_name(self._object, "config")),
            data={"redis.conf": conf},
            opts=self._child,
        )
        _, governing = self._services({"redis": config.PORT}, METRICS_PORT)
        persistence = spec.persistence
        volumes = [
            k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map.metadata.name)),
            k8s.core.v1.VolumeArgs(
                name="secrets",
                secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=server_secret.metadata.name, default_mode=0o400),
            ),
            pod.tmp_volume(),
        ]
        if not persistence.enabled:
            volumes.append(k8s.core.v1.VolumeArgs(name="data", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()))
        labels = self._store.identity.labels(self._component)
        self._primary(
            service_name=governing.metadata.name,
            containers=[
                self._server(),
                exporter(
                    spec.exporter_image,
                    {"REDIS_ADDR": f"redis://127.0.0.1:{config.PORT}", "REDIS_USER": config.EXPORTER_USER,
                     "REDIS_PASSWORD_FILE": f"{SECRETS_DIR}/exporter.json"},
                    METRICS_PORT, "/health", SECRETS_DIR,
                ),
            ],
            volumes=volumes,
            claims=[retained_claim(labels, persistence.storage.size, persistence.storage.storage_class)]
            if persistence.enabled else None,
            # Time for a last RDB snapshot on shutdown.
            grace_seconds=60,
            config_checksum=fingerprint(conf),
            singleton_reason=SINGLE_PRIMARY,
        )
        self._server_policy(config.PORT, METRICS_PORT, [*self._store.clients, *self._store.direct_clients])

    def _server(self) -> k8s.core.v1.ContainerArgs:
        spec = self._spec
        ping = ["sh", "-c", f'REDISCLI_AUTH="$(cat {SECRETS_DIR}/password)" redis-cli -p {config.PORT} ping | grep -q PONG']
        probes = pod.exec_probes(ping, period_seconds=10, timeout_seconds=5)
        return k8s.core.v1.ContainerArgs(
            name="redis",
            image=spec.image,
            image_pull_policy="IfNotPresent",
            args=["redis-server", "/etc/redis/redis.conf"],
            ports=[k8s.core.v1.ContainerPortArgs(name="redis", container_port=config.PORT, protocol="TCP")],
            resources=pod.resource_requirements(spec.resources.requests.model_dump(), spec.resources.limits.model_dump()),
            startup_probe=probes.startup,
            readiness_probe=probes.readiness,
            liveness_probe=probes.liveness,
            security_context=pod.container_security_context(IMAGE_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path=config.DATA_DIR),
                k8s.core.v1.VolumeMountArgs(name="config", mount_path="/etc/redis/redis.conf", sub_path="redis.conf"),
                k8s.core.v1.VolumeMountArgs(name="secrets", mount_path="/etc/redis/acl", read_only=True),
                k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=SECRETS_DIR, read_only=True),
                pod.tmp_mount(),
            ],
        )
