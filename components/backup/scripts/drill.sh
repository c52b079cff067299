#!/bin/sh
# The restore drill: proves the newest dump in BACKUP_DIR restores. Starts a scratch
# PostgreSQL of its own in SCRATCH_DIR (no network, gone afterwards), restores the dump
# there with restore.sh, and checks what came back. Fails, with one line saying why, when
# there is no dump, when the newest is older than MAX_AGE_SECONDS (a backup was missed),
# when it does not restore, when nothing was restored, or when a table named in TABLES
# is missing or empty. EXTENSIONS are created first, as the real server's init does.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:-db}
max_age=${MAX_AGE_SECONDS:?MAX_AGE_SECONDS is not set}
scratch=${SCRATCH_DIR:?SCRATCH_DIR is not set}
here=$(dirname "$0")
fail() { echo "drill: FAILED: $*" >&2; exit 1; }

listing=$(ls -1 "$dir")
newest=$(printf '%s\n' "$listing" | BACKUP_PREFIX=$prefix sh "$here/newest-first.sh" | head -n 1)
[ -n "$newest" ] || fail "no dump in $dir"
age=$(sh "$here/age.sh" "$newest")
[ "$age" -le "$max_age" ] || fail "the newest dump, $newest, is ${age}s old; the schedule allows ${max_age}s"

data="$scratch/drill-data"
rm -rf "$data"
trap 'pg_ctl stop --pgdata="$data" --mode=immediate >/dev/null 2>&1 || true; rm -rf "$data"' EXIT
initdb --pgdata="$data" --username=postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >/dev/null ||
  fail "initdb could not make the scratch server"
# Unix socket only, and no durability: the copy is thrown away.
pg_ctl start --pgdata="$data" --wait --silent --log="$scratch/drill-server.log" \
  --options="-c listen_addresses='' -c unix_socket_directories='$scratch' -c fsync=off -c full_page_writes=off" ||
  fail "the scratch server did not start: $(tail -n 5 "$scratch/drill-server.log")"

query() { psql --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 "$@"; }
query "postgresql:///postgres?host=$scratch&user=postgres" -c "CREATE DATABASE drill" >/dev/null
url="postgresql:///drill?host=$scratch&user=postgres"
for extension in ${EXTENSIONS:-}; do
  query "$url" -c "CREATE EXTENSION IF NOT EXISTS \"$extension\"" >/dev/null
done
BACKUP_DIR=$dir BACKUP_PREFIX=$prefix DUMP=$newest DATABASE_URL=$url sh "$here/restore.sh" >/dev/null ||
  fail "$newest did not restore"

tables=$(query "$url" -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
[ "$tables" -gt 0 ] || fail "$newest restored no tables"
for table in ${TABLES:-}; do
  rows=$(query "$url" -c "SELECT count(*) FROM $table" 2>/dev/null) || fail "table $table is not in $newest"
  [ "$rows" -gt 0 ] || fail "table $table is empty in $newest"
  echo "drill: $table: $rows rows"
done
echo "drill: $newest (${age}s old) restores: $tables tables"
