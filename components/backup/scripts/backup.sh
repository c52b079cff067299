#!/bin/sh
# One backup of the app's database: pg_dump's custom format (compressed, restorable table by
# table), named <prefix>-<UTC time>.dump in BACKUP_DIR. Mounted from a ConfigMap into the
# backup CronJob; the tests run this very file against a real PostgreSQL.
#
# Environment: DATABASE_URL (direct, never through a pooler), BACKUP_DIR, BACKUP_PREFIX.
# Any failure exits non-zero and leaves nothing that counts as a backup: the dump is written
# under a hidden temporary name and renamed only once pg_restore has read it back whole.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:-db}
name="$prefix-$(date -u +%Y%m%dT%H%M%SZ).dump"
partial="$dir/.$name.partial"

trap 'rm -f "$partial"' EXIT
# --no-password: a missing password fails at once instead of waiting for a prompt.
pg_dump --format=custom --compress=6 --no-password --file="$partial" "${DATABASE_URL:?DATABASE_URL is not set}"
if [ ! -s "$partial" ]; then
  echo "backup: pg_dump wrote nothing" >&2
  exit 1
fi
# Reads the whole table of contents: a truncated file fails here, not on the day of a restore.
pg_restore --list "$partial" > /dev/null
mv "$partial" "$dir/$name"
trap - EXIT
echo "backup: $dir/$name ($(wc -c < "$dir/$name") bytes)"
