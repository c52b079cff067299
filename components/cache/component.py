"""The Cache component: Redis in the cluster, or the URLs of a managed one."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import network, pod
from components.backend import EnvSecret
from components.backend.component import SINGLETON_ANNOTATION
from components.cache import config
from components.cache.spec import CacheSpec
from components.database.component import UID_SKIP
from components.naming import AppIdentity, k8s_name

TYPE = "shipyard:data:Cache"
COMPONENT = "cache"
METRICS_PORT = 9121
REDIS_UID = 999
SECRETS_DIR = "/run/secrets/redis"
SINGLE_PRIMARY = "single primary: one Redis server; replicas would need Sentinel for failover"


@dataclass(frozen=True, kw_only=True)
class CacheArgs:
    namespace: pulumi.Input[str]
    identity: AppIdentity
    spec: CacheSpec
    client_pods: dict[str, str]
    """Labels of the pods that may connect."""
    metrics_namespace: str | None = None
    protect: bool = False
    """Protect the StatefulSet and the credentials (production)."""


class Cache(pulumi.ComponentResource):
    env_secret: EnvSecret
    client_egress: list[k8s.networking.v1.NetworkPolicyEgressRuleArgs]

    def __init__(self, name: str, args: CacheArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self._name, self._args = name, args
        self._keep = pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect)
        self._object = k8s_name(args.identity.name, "redis")
        if args.spec.mode == "external":
            self._external()
        else:
            self._in_cluster()
        self.register_outputs({})

    def _metadata(self, name: str, annotations: dict[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
        return k8s.meta.v1.ObjectMetaArgs(
            name=name, namespace=self._args.namespace, labels=self._args.identity.labels(COMPONENT),
            annotations=annotations or None,
        )

    def _app_secret(self, env: pulumi.Output) -> None:
        secret = k8s.core.v1.Secret(
            f"{self._name}-app-secret",
            metadata=self._metadata(self._object),
            type="Opaque",
            string_data=env,
            opts=self._keep,
        )
        checksum = env.apply(lambda values: hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest())
        self.env_secret = EnvSecret(name=secret.metadata.name, checksum=pulumi.Output.secret(checksum))

    def _external(self) -> None:
        url = urlsplit(self._args.spec.url.get_secret_value())  # type: ignore[union-attr]
        env = {name: urlunsplit(url._replace(path=f"/{db}")) for name, db in self._args.spec.urls.items()}
        self._app_secret(pulumi.Output.secret(env))
        self.client_egress = [
            network.egress_rule(
                [network.Peer(ip_block=k8s.networking.v1.IPBlockArgs(cidr="0.0.0.0/0"))], network.tcp(url.port or config.PORT)
            )
        ]

    def _in_cluster(self) -> None:
        spec, identity = self._args.spec, self._args.identity
        app_password, exporter_password = (
            random.RandomPassword(f"{self._name}-{role}-password", length=32, special=False, opts=self._keep).result
            for role in ("app", "exporter")
        )
        host = pulumi.Output.concat(self._object, ".", self._args.namespace, ".svc.cluster.local")
        self._app_secret(
            pulumi.Output.secret(pulumi.Output.all(app_password, host).apply(lambda v: config.app_urls(spec, v[0], v[1])))
        )
        server_secret = k8s.core.v1.Secret(
            f"{self._name}-server-secret",
            metadata=self._metadata(k8s_name(self._object, "server")),
            type="Opaque",
            string_data={
                "users.acl": pulumi.Output.all(app_password, exporter_password).apply(
                    lambda v: config.acl_file(spec, v[0], v[1])
                ),
                "password": app_password,
                # redis_exporter's password file: address -> password
                "exporter.json": exporter_password.apply(
                    lambda p: json.dumps({f"redis://127.0.0.1:{config.PORT}": p})
                ),
            },
            opts=self._keep,
        )
        conf = config.redis_conf(spec)
        config_map = k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._metadata(k8s_name(self._object, "config")),
            data={"redis.conf": conf},
            opts=pulumi.ResourceOptions(parent=self),
        )
        selector = identity.selector(COMPONENT)
        service = k8s.core.v1.Service(
            f"{self._name}-service",
            metadata=self._metadata(self._object),
            spec=k8s.core.v1.ServiceSpecArgs(
                type="ClusterIP",
                selector=selector,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="redis", port=config.PORT, target_port="redis"),
                    k8s.core.v1.ServicePortArgs(name="metrics", port=METRICS_PORT, target_port="metrics"),
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._stateful_set(service, config_map, server_secret, conf)
        self._network_policy()
        self.client_egress = [network.egress_rule([network.pod_peer(selector)], network.tcp(config.PORT))]

    def _stateful_set(self, service, config_map, server_secret, conf: str) -> None:
        spec, identity = self._args.spec, self._args.identity
        ping = ["sh", "-c", f'REDISCLI_AUTH="$(cat {SECRETS_DIR}/password)" redis-cli -p {config.PORT} ping | grep -q PONG']
        probes = pod.exec_probes(ping, period_seconds=10, timeout_seconds=5)
        mounts = [
            k8s.core.v1.VolumeMountArgs(name="data", mount_path=config.DATA_DIR),
            k8s.core.v1.VolumeMountArgs(name="config", mount_path="/etc/redis/redis.conf", sub_path="redis.conf"),
            k8s.core.v1.VolumeMountArgs(name="secrets", mount_path="/etc/redis/acl", read_only=True),
            k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=SECRETS_DIR, read_only=True),
            pod.tmp_mount(),
        ]
        server = k8s.core.v1.ContainerArgs(
            name="redis",
            image=spec.image,
            image_pull_policy="IfNotPresent",
            args=["redis-server", "/etc/redis/redis.conf"],
            ports=[k8s.core.v1.ContainerPortArgs(name="redis", container_port=config.PORT, protocol="TCP")],
            resources=pod.resource_requirements(spec.resources.requests.model_dump(), spec.resources.limits.model_dump()),
            startup_probe=probes.startup,
            readiness_probe=probes.readiness,
            liveness_probe=probes.liveness,
            security_context=pod.container_security_context(REDIS_UID),
            volume_mounts=mounts,
        )
        exporter = k8s.core.v1.ContainerArgs(
            name="exporter",
            image=spec.exporter_image,
            image_pull_policy="IfNotPresent",
            env=[
                k8s.core.v1.EnvVarArgs(name="REDIS_ADDR", value=f"redis://127.0.0.1:{config.PORT}"),
                k8s.core.v1.EnvVarArgs(name="REDIS_USER", value=config.EXPORTER_USER),
                k8s.core.v1.EnvVarArgs(name="REDIS_PASSWORD_FILE", value=f"{SECRETS_DIR}/exporter.json"),
            ],
            ports=[k8s.core.v1.ContainerPortArgs(name="metrics", container_port=METRICS_PORT, protocol="TCP")],
            resources=pod.resource_requirements({"cpu": "10m", "memory": "32Mi"}, {"cpu": "100m", "memory": "64Mi"}),
            readiness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/health", port="metrics"), period_seconds=15),
            liveness_probe=k8s.core.v1.ProbeArgs(http_get=k8s.core.v1.HTTPGetActionArgs(path="/health", port="metrics"), period_seconds=30),
            security_context=pod.container_security_context(REDIS_UID),
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="secrets", mount_path=SECRETS_DIR, read_only=True)],
        )
        labels = identity.labels(COMPONENT)
        volumes = [
            k8s.core.v1.VolumeArgs(name="config", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=config_map.metadata.name)),
            k8s.core.v1.VolumeArgs(
                name="secrets",
                secret=k8s.core.v1.SecretVolumeSourceArgs(secret_name=server_secret.metadata.name, default_mode=0o400),
            ),
            pod.tmp_volume(),
        ]
        persistence = spec.persistence
        claims = None
        if persistence.enabled:
            claims = [
                k8s.core.v1.PersistentVolumeClaimArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(name="data", labels=labels),
                    spec=k8s.core.v1.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce"],
                        storage_class_name=persistence.storage.storage_class,
                        resources=k8s.core.v1.VolumeResourceRequirementsArgs(requests={"storage": persistence.storage.size}),
                    ),
                )
            ]
        else:
            volumes.append(k8s.core.v1.VolumeArgs(name="data", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs()))
        k8s.apps.v1.StatefulSet(
            f"{self._name}-statefulset",
            metadata=self._metadata(self._object, {**UID_SKIP, SINGLETON_ANNOTATION: SINGLE_PRIMARY}),
            spec=k8s.apps.v1.StatefulSetSpecArgs(
                replicas=1,
                service_name=service.metadata.name,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=identity.selector(COMPONENT)),
                persistent_volume_claim_retention_policy=k8s.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicyArgs(
                    when_deleted="Retain", when_scaled="Retain"
                ),
                volume_claim_templates=claims,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        labels=labels,
                        annotations={"checksum/config": hashlib.sha256(conf.encode()).hexdigest()[:16]},
                    ),
                    spec=k8s.core.v1.PodSpecArgs(
                        automount_service_account_token=False,
                        enable_service_links=False,
                        security_context=pod.pod_security_context(REDIS_UID),
                        # Time for a last RDB snapshot on shutdown.
                        termination_grace_period_seconds=60,
                        containers=[server, exporter],
                        volumes=volumes,
                    ),
                ),
            ),
            opts=self._keep,
        )

    def _network_policy(self) -> None:
        args = self._args
        ingress = [network.ingress_rule([network.pod_peer(args.client_pods)], network.tcp(config.PORT))]
        if args.metrics_namespace:
            ingress.append(network.ingress_rule([network.namespace_peer(args.metrics_namespace)], network.tcp(METRICS_PORT)))
        k8s.networking.v1.NetworkPolicy(
            f"{self._name}-network-policy",
            metadata=self._metadata(self._object),
            spec=network.policy_spec(args.identity.selector(COMPONENT), ingress=ingress, egress=[]),
            opts=pulumi.ResourceOptions(parent=self),
        )
