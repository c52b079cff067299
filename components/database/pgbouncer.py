"""PgBouncer in transaction mode: many app connections over a few server connections.

Apps get the pooler's URL; migrations and backups keep the direct one, since
session state (advisory locks, SET, prepared statements) does not survive
transaction pooling.
"""

from __future__ import annotations

from components.database.spec import RESERVE_POOL_SIZE, PgBouncerSpec

PORT = 6432
CONFIG_DIR = "/etc/pgbouncer"
USERLIST = f"{CONFIG_DIR}/userlist/userlist.txt"
STATS_USER = "shipyard_stats"
"""May read the admin console's SHOW commands and nothing else: the exporter's login."""
METRICS_PORT = 9127


def pgbouncer_ini(spec: PgBouncerSpec, *, database: str, server_host: str, server_port: int) -> str:
    stats = [f"stats_users = {STATS_USER}"] if spec.exporter.enabled else []
    return "\n".join(
        [
            "; Rendered by shipyard; edit the stack config, not this file.",
            "[databases]",
            f"{database} = host={server_host} port={server_port} dbname={database}",
            "",
            "[pgbouncer]",
            "listen_addr = *",
            f"listen_port = {PORT}",
            "unix_socket_dir =",
            "auth_type = scram-sha-256",
            f"auth_file = {USERLIST}",
            f"pool_mode = {spec.pool_mode}",
            f"max_client_conn = {spec.max_client_conn}",
            f"default_pool_size = {spec.default_pool_size}",
            # What the config check counts per pod (PgBouncerSpec.server_connections_per_pod),
            # written out so that no PgBouncer default or second user's pool can exceed it.
            f"reserve_pool_size = {RESERVE_POOL_SIZE}",
            f"max_db_connections = {spec.server_connections_per_pod}",
            # Sent by JDBC and some Python drivers at connect; harmless to drop.
            "ignore_startup_parameters = extra_float_digits",
            "server_reset_query = DISCARD ALL",
            "log_connections = 0",
            "log_disconnections = 0",
            *stats,
            "",
        ]
    )


def userlist(user: str, password: str, stats_password: str | None = None) -> str:
    # PgBouncer needs the password itself to answer SCRAM on both sides.
    lines = [f'"{user}" "{password}"']
    if stats_password is not None:
        lines.append(f'"{STATS_USER}" "{stats_password}"')
    return "\n".join(lines) + "\n"
