#!/bin/sh
# One archive of an app volume (user uploads): everything under SOURCE_DIR as a gzipped tar,
# named <prefix>-<UTC time>.tar.gz in BACKUP_DIR, beside the database's dumps. The tests run
# this very file against real directories.
#
# Environment: SOURCE_DIR (the volume, mounted read-only), BACKUP_DIR, BACKUP_PREFIX.
# Any failure exits non-zero and leaves nothing that counts as an archive: it is written
# under a hidden temporary name and renamed only once it has been read back whole.
set -eu

source_dir=${SOURCE_DIR:?SOURCE_DIR is not set}
dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:?BACKUP_PREFIX is not set}
[ -d "$source_dir" ] || { echo "archive: $source_dir is not a directory" >&2; exit 1; }
name="$prefix-$(date -u +%Y%m%dT%H%M%SZ).tar.gz"
partial="$dir/.$name.partial"

trap 'rm -f "$partial"' EXIT
# The app keeps writing while this runs: GNU tar exits 1 when a file changed as it was
# read (that file's copy may be torn, every other one is whole), 2 on a real failure.
status=0
tar --create --gzip --file="$partial" --directory="$source_dir" --warning=no-file-changed . || status=$?
if [ "$status" -gt 1 ]; then
  echo "archive: tar failed ($status)" >&2
  exit 1
fi
# Reads the whole archive back: a truncated file fails here, not on the day of a restore.
files=$(tar --list --gzip --file="$partial" | grep -cv '/$' || true)
mv "$partial" "$dir/$name"
trap - EXIT
echo "archive: $dir/$name ($files files, $(wc -c < "$dir/$name") bytes)"
