"""The RabbitMQ component: one node in a StatefulSet, its URL in the app's Secret."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components import pod
from components.annotations import checkov_skips
from components.datastore import DataStore, StoreArgs, retained_claim
from components.fingerprint import fingerprint
from components.naming import k8s_name
from components.rabbitmq import config
from components.rabbitmq.spec import RabbitMQSpec

TYPE = "shipyard:data:RabbitMQ"
COMPONENT = "rabbitmq"
IMAGE_UID = 100
"""The rabbitmq user of the official Alpine image, which owns its data directory."""
UID_SKIP = checkov_skips(
    ("CKV_K8S_40", "the official rabbitmq image runs as its own user, UID 100, which owns the data directory")
)
SECRETS_DIR = "/run/secrets/rabbitmq"
SINGLE_NODE = "single node: one RabbitMQ; more would be a cluster with quorum queues"
# The node's name, fixed so its data directory (named after it) is found again whatever
# the pod is called; the CLI tools of the probes read the same variable.
NODE_NAME = "rabbit@localhost"


@dataclass(frozen=True, kw_only=True)
class RabbitMQArgs(StoreArgs):
    spec: RabbitMQSpec


class RabbitMQ(DataStore):
    def __init__(self, name: str, args: RabbitMQArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, args, component=COMPONENT, object_name=k8s_name(args.identity.name, "rabbitmq"),
                         opts=opts)
        self._spec = args.spec
        self._vhost = args.spec.vhost or args.identity.name
        self._build("in-cluster")

    def _in_cluster(self) -> None:
        spec, vhost = self._spec, self._vhost
        password, cookie = self._password("app"), self._password("erlang-cookie")
        self._app_secret(pulumi.Output.all(password, self._host(self._object)).apply(
            lambda v: {name: config.amqp_url(spec, vhost, v[0], v[1]) for name in spec.urls}))
        server_secret = k8s.core.v1.Secret(
            f"{self._name}-server-secret",
            metadata=self._metadata(k8s_name(self._object, "server")),
            type="Opaque",
            string_data={
                config.CREDENTIALS_FILE: password.apply(lambda p: config.credentials(spec, vhost, p)),
                "erlang-cookie": cookie,
            },
            opts=self._keep,
        )
        settings = config.settings(spec)
        config_map = k8s.core.v1.ConfigMap(
            f"{self._name}-config",
            metadata=self._metadata(k8s_name(self._object, "config")),
            data={config.SETTINGS_FILE: settings, "enabled_plugins": config.enabled_plugins()},
            opts=self._child,
        )
        _, governing = self._services({"amqp": config.AMQP_PORT}, config.METRICS_PORT)
        # Settings and credentials side by side in the directory the server reads.
        conf_dir = k8s.core.v1.VolumeArgs(name="conf", projected=k8s.core.v1.ProjectedVolumeSourceArgs(
            default_mode=0o440,
            sources=[
                k8s.core.v1.VolumeProjectionArgs(config_map=k8s.core.v1.ConfigMapProjectionArgs(
                    name=config_map.metadata.name, items=[k8s.core.v1.KeyToPathArgs(key=config.SETTINGS_FILE, path=config.SETTINGS_FILE)])),
                k8s.core.v1.VolumeProjectionArgs(secret=k8s.core.v1.SecretProjectionArgs(
                    name=server_secret.metadata.name,
                    items=[k8s.core.v1.KeyToPathArgs(key=config.CREDENTIALS_FILE, path=config.CREDENTIALS_FILE)])),
            ],
        ))
        volumes = [
            conf_dir,
            k8s.core.v1.VolumeArgs(name="plugins", config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(
                name=config_map.metadata.name, items=[k8s.core.v1.KeyToPathArgs(key="enabled_plugins", path="enabled_plugins")])),
            k8s.core.v1.VolumeArgs(name="cookie", secret=k8s.core.v1.SecretVolumeSourceArgs(
                secret_name=server_secret.metadata.name, default_mode=0o440,
                items=[k8s.core.v1.KeyToPathArgs(key="erlang-cookie", path="erlang-cookie")])),
            pod.tmp_volume(),
        ]
        labels = self._store.identity.labels(self._component)
        self._primary(
            service_name=governing.metadata.name,
            init_containers=[self._cookie_step()],
            containers=[self._server()],
            volumes=volumes,
            claims=[retained_claim(labels, spec.storage.size, spec.storage.storage_class)],
            # Time to close connections and flush queues to disk.
            grace_seconds=120,
            config_checksum=fingerprint(settings),
            singleton_reason=SINGLE_NODE,
            run_as=IMAGE_UID,
            uid_skip=UID_SKIP,
        )
        self._server_policy(config.AMQP_PORT, config.METRICS_PORT, [*self._store.clients, *self._store.direct_clients])

    def _env(self) -> list[k8s.core.v1.EnvVarArgs]:
        values = {
            "RABBITMQ_CONFIG_FILES": config.CONFIG_DIR,
            "RABBITMQ_ENABLED_PLUGINS_FILE": config.PLUGINS_FILE,
            "RABBITMQ_NODENAME": NODE_NAME,
            "RABBITMQ_LOGS": "-",
            "HOME": config.DATA_DIR,
        }
        return [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in values.items()]

    def _cookie_step(self) -> k8s.core.v1.ContainerArgs:
        """The Erlang cookie in the data directory, readable by its owner only, as Erlang
        insists (a Secret's files are shared with the pod's group)."""
        cookie = f"{config.DATA_DIR}/.erlang.cookie"
        return k8s.core.v1.ContainerArgs(
            name="erlang-cookie",
            image=self._spec.image,
            image_pull_policy="IfNotPresent",
            command=["sh", "-c", f"rm -f {cookie} && cp {SECRETS_DIR}/erlang-cookie {cookie} && chmod 400 {cookie}"],
            resources=pod.resource_requirements({"cpu": "10m", "memory": "16Mi"}, {"cpu": "100m", "memory": "32Mi"}),
            security_context=pod.container_security_context(IMAGE_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path=config.DATA_DIR),
                k8s.core.v1.VolumeMountArgs(name="cookie", mount_path=SECRETS_DIR, read_only=True),
            ],
        )

    def _server(self) -> k8s.core.v1.ContainerArgs:
        spec = self._spec
        amqp = k8s.core.v1.TCPSocketActionArgs(port="amqp")
        return k8s.core.v1.ContainerArgs(
            name="rabbitmq",
            image=spec.image,
            image_pull_policy="IfNotPresent",
            # The server itself, past the image's entrypoint script: everything it would
            # set up comes from the mounted files and the variables below.
            command=["rabbitmq-server"],
            working_dir=config.DATA_DIR,
            env=self._env(),
            ports=[
                k8s.core.v1.ContainerPortArgs(name="amqp", container_port=config.AMQP_PORT, protocol="TCP"),
                k8s.core.v1.ContainerPortArgs(name="management", container_port=config.MANAGEMENT_PORT, protocol="TCP"),
                k8s.core.v1.ContainerPortArgs(name="metrics", container_port=config.METRICS_PORT, protocol="TCP"),
            ],
            resources=pod.resource_requirements(spec.resources.requests.model_dump(), spec.resources.limits.model_dump()),
            # Booting replays the message store: up to five minutes. Ready once it takes
            # connections; alive while the node answers its CLI (each check starts a VM: slow).
            startup_probe=k8s.core.v1.ProbeArgs(tcp_socket=amqp, period_seconds=5, failure_threshold=60),
            readiness_probe=k8s.core.v1.ProbeArgs(tcp_socket=amqp, period_seconds=10, failure_threshold=3),
            liveness_probe=pod.exec_probe(["rabbitmq-diagnostics", "-q", "ping"], period_seconds=30,
                                          timeout_seconds=20, failures=3),
            security_context=pod.container_security_context(IMAGE_UID),
            volume_mounts=[
                k8s.core.v1.VolumeMountArgs(name="data", mount_path=config.DATA_DIR),
                k8s.core.v1.VolumeMountArgs(name="conf", mount_path=config.CONFIG_DIR, read_only=True),
                k8s.core.v1.VolumeMountArgs(name="plugins", mount_path=config.PLUGINS_FILE.rsplit("/", 1)[0], read_only=True),
                pod.tmp_mount(),
            ],
        )
