"""Streaming replication: who may connect how (pg_hba.conf), the replication role, and
the scripts that seed a standby and keep the role in step with its Secret.

A standby is seeded once, on an empty volume, with pg_basebackup from the primary, and
then streams the primary's WAL as the replication role. That role is made by the init
script on a new primary volume, and on every start of an existing one by an init
container in single-user mode, so turning replicas on later, or a new password, needs
no one at a psql prompt.
"""

from __future__ import annotations

from components.database.init import CONFIG_DIR, SECRETS_DIR

ROLE = "replicator"
PASSWORD_KEY = "replication-password"
HBA_FILE = f"{CONFIG_DIR}/pg_hba.conf"
ROLE_SCRIPT = "replication-role.sh"
SEED_SCRIPT = "seed-standby.sh"
PASSFILE_DIR = "/run/replication"
"""A memory volume of the standby's pod: the role's password, as the owner-only file libpq reads."""
CONNECTION_LIMIT = 10
"""Standbys and base backups at once, within the server's default `max_wal_senders` (10)."""


def pg_hba_conf(*, replication: bool) -> str:
    """Password (SCRAM) authentication for every TCP connection, loopback included; the
    replication protocol only for the replication role, and only when there are standbys."""
    lines = [
        "# Rendered by shipyard; edit the stack config, not this file.",
        "# TYPE  DATABASE     USER        ADDRESS  METHOD",
        "# The socket's directory is mounted in the server's container only: the image's own",
        "# way in (initialisation, pg_ctl, an operator's `kubectl exec ... psql`).",
        "local   all          all                  trust",
        "host    all          all         all      scram-sha-256",
    ]
    if replication:
        lines.append(f"host    replication  {ROLE}  all      scram-sha-256")
    return "\n".join(lines) + "\n"


def role_script() -> str:
    """Prints the SQL that makes the replication role, or brings an existing one in line.

    One statement per line, as single-user mode reads them. The password is generated
    from letters and digits only; the script refuses anything else rather than quote it.
    """
    return f"""#!/bin/sh
# Rendered by shipyard. Prints SQL for psql or `postgres --single`; runs nothing itself.
set -eu
password=$(cat "${{SHIPYARD_SECRETS_DIR:-{SECRETS_DIR}}}/{PASSWORD_KEY}")
case "$password" in
  ''|*[!A-Za-z0-9]*) echo "{PASSWORD_KEY} must be letters and digits only" >&2; exit 1 ;;
esac
echo "DO \\$\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') THEN CREATE ROLE {ROLE}; END IF; END\\$\\$;"
echo "ALTER ROLE {ROLE} WITH LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT {CONNECTION_LIMIT} PASSWORD '$password';"
"""


def ensure_role_script() -> str:
    """The primary's init container: on an existing volume, the role as its Secret says.

    Single-user mode needs no running server and no network, and it replays the WAL of
    an unclean stop first. A new volume is left to the image's initialisation, which
    runs the same SQL through init.sh.
    """
    return f"""set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  echo "new volume: the replication role is made at initialisation"
  exit 0
fi
config="${{SHIPYARD_CONFIG_DIR:-{CONFIG_DIR}}}"
# Printed first, so a failing script stops here (sh has no pipefail).
role_sql=$("$config/{ROLE_SCRIPT}")
output=$(printf '%s\\n' "$role_sql" | postgres --single -D "$PGDATA" -c config_file="$config/postgresql.conf" \\
  -c log_min_messages=error postgres 2>&1)
# Single-user mode goes on after a failed statement; its ERROR lines say so.
if printf '%s\\n' "$output" | grep -q 'ERROR'; then
  printf '%s\\n' "$output" | grep -v PASSWORD >&2
  exit 1
fi
echo "replication role {ROLE} is in place"
"""


def seed_script() -> str:
    """A standby's init container: on an empty volume, a base backup of the primary.

    The copy goes to a directory beside the data directory and is renamed into place
    only once complete, so a seed cut short starts over instead of leaving a torn copy
    that the server would try to run. Every start also writes the password file the
    standby's WAL receiver reads.
    """
    return f"""set -eu
umask 077
printf '*:*:*:{ROLE}:%s\\n' "$(cat "${{SHIPYARD_SECRETS_DIR:-{SECRETS_DIR}}}/{PASSWORD_KEY}")" > "$PGPASSFILE"
if [ -s "$PGDATA/PG_VERSION" ]; then
  echo "already seeded: streaming from $PRIMARY_HOST resumes where it stopped"
  exit 0
fi
until pg_isready --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --timeout=5; do sleep 2; done
rm -rf "$PGDATA.partial"
pg_basebackup --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" --username={ROLE} --no-password \\
  --pgdata="$PGDATA.partial" --wal-method=stream --checkpoint=fast
# Starts the copy as a standby; the server reads its upstream from postgresql.conf.
touch "$PGDATA.partial/standby.signal"
mv "$PGDATA.partial" "$PGDATA"
echo "seeded from $PRIMARY_HOST"
"""


def standby_settings(primary_host: str, port: int, name: str) -> dict[str, str]:
    """What makes a server a hot standby of `primary_host`, for its postgresql.conf; the
    primary lists it as `name` in pg_stat_replication.

    No password in the file: libpq reads it from the pod's owner-only password file.
    """
    conninfo = f"host={primary_host} port={port} user={ROLE} passfile={PASSFILE_DIR}/pgpass application_name={name}"
    # Feedback keeps the primary from vacuuming rows a standby's query still reads, so
    # long reports on a replica are not cancelled mid-way (at the cost of some bloat).
    return {"primary_conninfo": conninfo, "hot_standby": "on", "hot_standby_feedback": "on"}
