"""redis.conf and the ACL file, rendered from a CacheSpec.

Passwords never go in redis.conf (a ConfigMap): the users and their password hashes
are in an ACL file that lives in a Secret. The app's user may run everything but
the dangerous commands; the exporter's user may only read server statistics.
"""

from __future__ import annotations

import hashlib

from components.cache.spec import CacheSpec

PORT = 6379
ACL_PATH = "/etc/redis/acl/users.acl"
DATA_DIR = "/data"
EXPORTER_USER = "exporter"
# What redis_exporter reads: INFO and a few inspection commands, nothing that writes.
EXPORTER_COMMANDS = ["+info", "+ping", "+config|get", "+client|list", "+slowlog|get", "+slowlog|len",
                     "+latency|latest", "+dbsize", "+select", "+memory|stats", "+cluster|info", "+command|count"]


def maxmemory(spec: CacheSpec) -> str:
    """The spec's maxmemory, or its default share of the memory limit (see CacheSpec)."""
    return spec.maxmemory or f"{spec.maxmemory_bytes() // 2**20}mb"


def redis_conf(spec: CacheSpec) -> str:
    persistence = spec.persistence
    lines = [
        "# Rendered by shipyard; edit the stack config, not this file.",
        "bind * -::*",
        f"port {PORT}",
        "protected-mode yes",
        # Data goes to the working directory, the image's /data, where the volume is.
        f"aclfile {ACL_PATH}",
        f"maxmemory {maxmemory(spec)}",
        f"maxmemory-policy {spec.maxmemory_policy}",
    ]
    if persistence.enabled:
        lines += [f"save {rule}" for rule in persistence.save]
        lines.append(f"appendonly {'yes' if persistence.append_only else 'no'}")
        lines.append(f"appendfsync {persistence.append_fsync}")
    else:
        lines += ['save ""', "appendonly no"]
    return "\n".join(lines) + "\n"


def _sha256(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def acl_file(spec: CacheSpec, app_password: str, exporter_password: str) -> str:
    """Users by password hash: `default` for the app, `exporter` for metrics."""
    denied = " ".join(f"-{command.lower()}" for command in spec.disabled_commands)
    return (
        f"user default on #{_sha256(app_password)} ~* &* +@all {denied}\n"
        f"user {EXPORTER_USER} on #{_sha256(exporter_password)} -@all {' '.join(EXPORTER_COMMANDS)}\n"
    )


def app_urls(spec: CacheSpec, password: str, host: str) -> dict[str, str]:
    """REDIS_URL and the per-purpose URLs, each on its own logical database.

    The user is named (`default`): redis-py, Celery and redis-cli all log in with it,
    where an empty user name is read differently by different clients.
    """
    return {name: f"redis://default:{password}@{host}:{PORT}/{db}" for name, db in spec.urls.items()}
