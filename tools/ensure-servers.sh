#!/usr/bin/env bash
# The real servers the data-tier tests run: PostgreSQL, PgBouncer, Redis and RabbitMQ, from Debian, and
# rclone, the client of the backups' off-site copy; and Graphviz, for the architecture pictures.
# Called by `make test` (and so by .ci/run). Installs what is missing when it can (root
# and apt-get); otherwise stops with the command to run. SHIPYARD_SKIP_REAL_SERVERS=1
# skips the check, and those tests are then reported as skipped.
set -euo pipefail

case "${SHIPYARD_SKIP_REAL_SERVERS:-}" in
  "" | 0 | false | no) ;;
  *) echo "SHIPYARD_SKIP_REAL_SERVERS is set: the real-server tests will be skipped" >&2; exit 0 ;;
esac

missing=()
# Debian keeps the server out of PATH, under /usr/lib/postgresql/<version>/bin.
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v psql >/dev/null; then
  missing+=(postgresql)
fi
# Debian installs pgbouncer in /usr/sbin, which is not on every PATH.
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v rclone >/dev/null || missing+=(rclone)
# Debian keeps RabbitMQ's scripts out of PATH, in /usr/lib/rabbitmq/bin.
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
# Graphviz lays out the example systems' architecture pictures (tools/diagram.py).
command -v dot >/dev/null || missing+=(graphviz)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "installing the servers the tests run: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  exit 0
fi

{
  echo "The tests run real servers, and these are not installed: ${missing[*]}"
  if command -v apt-get >/dev/null; then
    echo "Install them with:"
    echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}"
  else
    echo "Install them with your system's package manager (Debian package names: ${missing[*]});"
    echo "PostgreSQL is looked for in /usr/lib/postgresql/<version>/bin."
  fi
  echo "or run the tests without them (they are then reported as skipped):"
  echo "    SHIPYARD_SKIP_REAL_SERVERS=1 make test"
} >&2
exit 1
