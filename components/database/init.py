"""What runs once when a new data volume is initialised: roles, ownership, extensions.

The official image runs `/docker-entrypoint-initdb.d/*.sh` on first start, as the
superuser over the local socket. `init.sh` reads the passwords from the mounted
Secret and hands them to `init.sql` as psql variables, so no password is ever in a
ConfigMap or on a command line.
"""

from __future__ import annotations

from collections.abc import Sequence

MONITORING_ROLE = "monitoring"
SECRETS_DIR = "/run/secrets/postgres"
CONFIG_DIR = "/etc/postgresql"


def init_sql(extensions: Sequence[str]) -> str:
    lines = [
        "-- Rendered by shipyard. Runs once, on a new data volume, as the superuser.",
        "-- Variables: dbname, app_user, app_password, monitor_password.",
        "\\set ON_ERROR_STOP on",
        "",
        "-- The app's own role owns its database and schema but is not a superuser.",
        "CREATE ROLE :\"app_user\" LOGIN PASSWORD :'app_password';",
        "ALTER DATABASE :\"dbname\" OWNER TO :\"app_user\";",
        "\\connect :\"dbname\"",
        "ALTER SCHEMA public OWNER TO :\"app_user\";",
        "",
    ]
    lines += [f'CREATE EXTENSION IF NOT EXISTS "{name}";' for name in extensions]
    lines += [
        "",
        "-- Read-only role for metrics and for people who look but do not touch.",
        f"CREATE ROLE {MONITORING_ROLE} LOGIN PASSWORD :'monitor_password' CONNECTION LIMIT 5;",
        f"ALTER ROLE {MONITORING_ROLE} SET default_transaction_read_only = on;",
        f"GRANT pg_monitor TO {MONITORING_ROLE};",
        f"GRANT CONNECT ON DATABASE :\"dbname\" TO {MONITORING_ROLE};",
        f"GRANT USAGE ON SCHEMA public TO {MONITORING_ROLE};",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {MONITORING_ROLE};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE :\"app_user\" IN SCHEMA public GRANT SELECT ON TABLES TO {MONITORING_ROLE};",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE :\"app_user\" IN SCHEMA public GRANT SELECT ON SEQUENCES TO {MONITORING_ROLE};",
    ]
    return "\n".join(lines) + "\n"


def init_script(*, replication_role: str | None = None) -> str:
    """The image's first-start hook: init.sql with the passwords, then, when there are
    standbys, the SQL `replication_role` (a script beside it) prints."""
    # Paths can be moved by environment so the same script runs against a test server.
    role = (
        f"""# Printed first, so a failing script stops here (sh has no pipefail).
role_sql=$("${{SHIPYARD_CONFIG_DIR:-{CONFIG_DIR}}}/{replication_role}")
printf '%s\\n' "$role_sql" | psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \\
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB"
"""
        if replication_role else ""
    )
    return f"""#!/bin/sh
# Rendered by shipyard. Run once by the postgres image's entrypoint on a new volume.
set -eu
secrets="${{SHIPYARD_SECRETS_DIR:-{SECRETS_DIR}}}"
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \\
  --set=dbname="$POSTGRES_DB" \\
  --set=app_user="$APP_USER" \\
  --set=app_password="$(cat "$secrets/app-password")" \\
  --set=monitor_password="$(cat "$secrets/monitor-password")" \\
  --file="${{SHIPYARD_INIT_SQL:-{CONFIG_DIR}/init.sql}}"
{role}"""
