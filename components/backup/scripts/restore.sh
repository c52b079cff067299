#!/bin/sh
# Restores one dump into the database DATABASE_URL names: DUMP, or the newest in BACKUP_DIR.
# Refuses a database that already has tables unless ALLOW_NONEMPTY=1, since restoring over
# live data mixes two states; with it, every object in the dump is dropped and made again.
# One transaction: a failed restore leaves the target as it was.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:-db}
url=${DATABASE_URL:?DATABASE_URL is not set}
newest() {
  listing=$(ls -1 "$dir")
  printf '%s\n' "$listing" | BACKUP_PREFIX=$prefix sh "$(dirname "$0")/newest-first.sh" | head -n 1
}
dump=${DUMP:-$(newest)}
case $dump in
  "") echo "restore: no dump in $dir" >&2; exit 1 ;;
  /*) ;;
  *) dump="$dir/$dump" ;;
esac
[ -s "$dump" ] || { echo "restore: $dump is missing or empty" >&2; exit 1; }

tables=$(psql --no-psqlrc --no-password --tuples-only --no-align "$url" \
  -c "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
if [ "$tables" != 0 ] && [ "${ALLOW_NONEMPTY:-0}" != 1 ]; then
  echo "restore: the target database has $tables tables; set ALLOW_NONEMPTY=1 to restore over them" >&2
  exit 1
fi
# Extensions are the server's, made by its init script as the superuser; the app's role
# could not create them, so their entries are left out of what is restored.
list=$(mktemp)
trap 'rm -f "$list"' EXIT
pg_restore --list "$dump" | grep -v -E ' EXTENSION - | COMMENT - EXTENSION ' > "$list"
replace=""
if [ "$tables" != 0 ]; then replace="--clean --if-exists"; fi
# Owners and grants are the source's; the target's own role owns what it restores.
# shellcheck disable=SC2086 # $replace is two options or none
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --no-password $replace \
  --use-list="$list" --dbname="$url" "$dump"
echo "restore: $dump into $(printf '%s' "$url" | sed 's|//[^@]*@|//|')"
