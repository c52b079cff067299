"""The RabbitMQ node's configuration, rendered from a RabbitMQSpec.

Two files in one directory the server reads in order (RABBITMQ_CONFIG_FILES): the settings
(a ConfigMap) and the credentials (a Secret), so no password is ever in a ConfigMap.
"""

from __future__ import annotations

from urllib.parse import quote

from components.rabbitmq.spec import RabbitMQSpec

AMQP_PORT = 5672
MANAGEMENT_PORT = 15672
METRICS_PORT = 15692
CONFIG_DIR = "/etc/rabbitmq/shipyard.d"
PLUGINS_FILE = "/etc/rabbitmq/plugins/enabled_plugins"
DATA_DIR = "/var/lib/rabbitmq"
SETTINGS_FILE = "10-settings.conf"
CREDENTIALS_FILE = "20-credentials.conf"
PLUGINS = ["rabbitmq_management", "rabbitmq_prometheus"]


def settings(spec: RabbitMQSpec) -> str:
    lines = [
        "# Rendered by shipyard; edit the stack config, not this file.",
        f"listeners.tcp.default = {AMQP_PORT}",
        f"management.tcp.port = {MANAGEMENT_PORT}",
        f"prometheus.tcp.port = {METRICS_PORT}",
        # Logs to stdout, where the cluster collects them; no log file to rotate.
        "log.console = true",
        "log.console.level = info",
        "log.file = false",
        # The container's limit, not the node's memory, which RabbitMQ would see otherwise.
        f"total_memory_available_override_value = {spec.memory_limit_bytes()}",
        f"vm_memory_high_watermark.relative = {spec.memory_high_watermark}",
        f"disk_free_limit.absolute = {spec.disk_free_limit}",
    ]
    return "\n".join(lines) + "\n"


def credentials(spec: RabbitMQSpec, vhost: str, password: str) -> str:
    """The app's user and vhost, made on the node's first boot (RabbitMQ makes no `guest`
    user when a default user is named)."""
    return "\n".join([
        f"default_user = {spec.user}",
        f"default_pass = {password}",
        f"default_vhost = {vhost}",
        "default_permissions.configure = .*",
        "default_permissions.read = .*",
        "default_permissions.write = .*",
        "default_user_tags.management = true",
    ]) + "\n"


def enabled_plugins() -> str:
    return f"[{','.join(PLUGINS)}].\n"


def amqp_url(spec: RabbitMQSpec, vhost: str, password: str, host: str) -> str:
    # The vhost is the URL's path, percent-encoded (a vhost may hold a slash).
    return f"amqp://{quote(spec.user, safe='')}:{password}@{host}:{AMQP_PORT}/{quote(vhost, safe='')}"
