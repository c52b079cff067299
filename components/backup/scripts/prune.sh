#!/bin/sh
# Retention on the backup volume: deletes the dumps in BACKUP_DIR that expired.sh selects
# (older than RETENTION_DAYS, never the newest KEEP_AT_LEAST). Other files are left alone.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
[ -d "$dir" ] || { echo "prune: $dir is not a directory" >&2; exit 1; }
# Collected first, so a failure in the selection stops the script before anything goes.
expired=$(find "$dir" -maxdepth 1 -type f -printf '%f\n' | sh "$(dirname "$0")/expired.sh")
for old in $expired; do
  rm -f "$dir/$old"
  echo "prune: removed $old"
done
