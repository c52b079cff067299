"""postgresql.conf: the settings the hand-run guides tune, derived from the container's size.

Defaults follow the usual sizing rules (a quarter of memory for shared buffers,
three quarters as the planner's cache estimate, SSD page costs) and are computed
from the memory limit and the volume size; `shared_preload_libraries` follows the
extensions (`preload_for`). Every one can be overridden by name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Literal

Kind = Literal["memory", "integer", "real", "duration", "list", "string"]

SETTINGS: dict[str, Kind] = {
    "max_connections": "integer",
    "shared_buffers": "memory",
    "effective_cache_size": "memory",
    "work_mem": "memory",
    "maintenance_work_mem": "memory",
    "checkpoint_completion_target": "real",
    "wal_buffers": "memory",
    "min_wal_size": "memory",
    "max_wal_size": "memory",
    "random_page_cost": "real",
    "effective_io_concurrency": "integer",
    "log_min_duration_statement": "duration",
    "shared_preload_libraries": "list",
    "idle_in_transaction_session_timeout": "duration",
    "statement_timeout": "duration",
    "log_connections": "string",
    "log_disconnections": "string",
    "log_lock_waits": "string",
    "password_encryption": "string",
    "wal_keep_size": "memory",
}
"""Every setting a stack may set, and how its value is written."""

_MEMORY = re.compile(r"^(\d+)(B|kB|MB|GB|TB)$")
_DURATION = re.compile(r"^-?\d+(us|ms|s|min|h|d)?$")
_INTEGER = re.compile(r"^\d+$")
_REAL = re.compile(r"^\d+(\.\d+)?$")
_LIBRARY = re.compile(r"^[a-z_][a-z0-9_]*$")
_STRING = re.compile(r"^[A-Za-z0-9_.-]+$")
_MEMORY_UNITS = {"B": 1, "kB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}

MiB = 2**20

DEFAULT_MAX_CONNECTIONS = 100
"""`max_connections` when a stack does not set it (PostgreSQL's own default too)."""
SUPERUSER_RESERVED_CONNECTIONS = 3
"""PostgreSQL's default, not settable here: slots of `max_connections` only a superuser may take."""
NEEDS_PRELOAD = ("pg_stat_statements",)
"""Extensions that work only when their library is in `shared_preload_libraries`."""


def memory_bytes(value: str) -> int:
    match = _MEMORY.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a PostgreSQL memory size (e.g. 256MB, 4GB)")
    return int(match[1]) * _MEMORY_UNITS[match[2]]


def check_value(name: str, value: object) -> str:
    """The value as postgresql.conf writes it; ValueError naming what is wrong."""
    kind = SETTINGS.get(name)
    if kind is None:
        raise ValueError(f"unknown setting (known: {', '.join(sorted(SETTINGS))})")
    text = str(value).strip() if not isinstance(value, bool) else ("on" if value else "off")
    if kind == "memory":
        memory_bytes(text)
    elif kind == "integer" and not _INTEGER.match(text):
        raise ValueError(f"{value!r} is not a whole number")
    elif kind == "real" and not _REAL.match(text):
        raise ValueError(f"{value!r} is not a number")
    elif kind == "duration" and not _DURATION.match(text):
        raise ValueError(f"{value!r} is not a duration (e.g. 500ms, 1s, 5min; -1 turns it off)")
    elif kind == "list" and not all(_LIBRARY.match(part.strip()) for part in text.split(",")):
        raise ValueError(f"{value!r} is not a comma-separated list of library names")
    elif kind == "string" and not _STRING.match(text):
        raise ValueError(f"{value!r} has characters a setting value cannot have")
    if name == "checkpoint_completion_target" and not 0 < float(text) <= 1:
        raise ValueError(f"{value!r} must be between 0 and 1")
    return text


def _mb(size: int) -> str:
    return f"{max(size // MiB, 1)}MB"


def derived(
    memory_limit_bytes: int, storage_bytes: int, max_connections: int = DEFAULT_MAX_CONNECTIONS,
    *, replicated: bool = False,
) -> dict[str, str]:
    """Defaults for a server with this memory limit and data volume (and standbys, when `replicated`)."""
    shared_buffers = memory_limit_bytes // 4
    # WAL may take a quarter of the volume before a checkpoint is forced.
    max_wal = min(4 * 2**30, storage_bytes // 4)
    return {
        "max_connections": str(max_connections),
        "shared_buffers": _mb(shared_buffers),
        "effective_cache_size": _mb(memory_limit_bytes * 3 // 4),
        # Each connection may sort or hash a few times at once within the memory left.
        "work_mem": _mb(max(4 * MiB, (memory_limit_bytes - shared_buffers) // (max_connections * 3))),
        "maintenance_work_mem": _mb(min(2 * 2**30, max(64 * MiB, memory_limit_bytes // 16))),
        "checkpoint_completion_target": "0.9",
        "wal_buffers": "16MB",
        "min_wal_size": _mb(max_wal // 4),
        "max_wal_size": _mb(max_wal),
        "random_page_cost": "1.1",
        "effective_io_concurrency": "200",
        "log_min_duration_statement": "1000ms",
        # WAL kept for standbys that fell behind (a restart, a slow volume): an eighth of the
        # volume, at most 4GB; one further behind is seeded again from a new base backup.
        **({"wal_keep_size": _mb(min(4 * 2**30, storage_bytes // 8))} if replicated else {}),
    }


def preload_for(extensions: Sequence[str]) -> dict[str, str]:
    """`shared_preload_libraries` for these extensions, or nothing when none needs it.

    Preloading a library that no extension uses costs shared memory and a hook in every
    query, so the default follows the stack's `extensions`.
    """
    libraries = [name for name in NEEDS_PRELOAD if name in extensions]
    return {"shared_preload_libraries": ",".join(libraries)} if libraries else {}


def connection_limit(overrides: Mapping[str, str]) -> int:
    """`max_connections` as the server will have it."""
    return int(overrides.get("max_connections", DEFAULT_MAX_CONNECTIONS))


def settings_for(
    memory_limit_bytes: int, storage_bytes: int, overrides: Mapping[str, str], *, replicated: bool = False
) -> dict[str, str]:
    return {**derived(memory_limit_bytes, storage_bytes, connection_limit(overrides), replicated=replicated), **overrides}


def postgresql_conf(settings: Mapping[str, str], fixed: Mapping[str, str]) -> str:
    """The whole postgresql.conf: where to listen, the `fixed` settings the component
    decides (file paths, a standby's upstream), then every tuned setting."""
    lines = [
        "# Rendered by shipyard; edit the stack config, not this file.",
        "listen_addresses = '*'",
        "port = 5432",
        "log_destination = 'stderr'",
        "log_line_prefix = '%m [%p] %q%u@%d '",
        *(f"{name} = '{value}'" for name, value in fixed.items()),
    ]
    for name, value in settings.items():
        kind = SETTINGS[name]
        quoted = kind in ("memory", "duration", "list", "string")
        lines.append(f"{name} = '{value}'" if quoted else f"{name} = {value}")
    return "\n".join(lines) + "\n"
