#!/bin/sh
# Fetches one dump from the off-site copy into BACKUP_DIR: DUMP, or the newest there.
# For a restore when the backup volume is lost, or in another cluster.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:-db}
remote="offsite:${OFFSITE_PATH:?OFFSITE_PATH is not set}"

dump=${DUMP:-}
if [ -z "$dump" ]; then
  listing=$(rclone lsf --files-only "$remote")
  dump=$(printf '%s\n' "$listing" | BACKUP_PREFIX=$prefix sh "$(dirname "$0")/newest-first.sh" | head -n 1)
fi
[ -n "$dump" ] || { echo "fetch: no dump in $remote" >&2; exit 1; }
partial="$dir/.$dump.partial"
trap 'rm -f "$partial"' EXIT
rclone copyto "$remote$dump" "$partial"
mv "$partial" "$dir/$dump"
trap - EXIT
echo "fetch: $remote$dump"
