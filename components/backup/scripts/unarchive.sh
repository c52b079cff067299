#!/bin/sh
# Restores an app volume from one archive of archive.sh: ARCHIVE (a file name in BACKUP_DIR,
# or the newest <prefix>-*.tar.gz when not given) is unpacked into TARGET_DIR. An empty target
# only, unless ALLOW_NONEMPTY=1: then the archive's files replace those of the same name and
# the others stay.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
target=${TARGET_DIR:?TARGET_DIR is not set}
: "${BACKUP_PREFIX:?BACKUP_PREFIX is not set}"
export BACKUP_SUFFIX="${BACKUP_SUFFIX:-.tar.gz}"
listing=$(ls -1 "$dir")
archive=${ARCHIVE:-$(printf '%s\n' "$listing" | sh "$(dirname "$0")/newest-first.sh" | head -n 1)}
if [ -z "$archive" ] || [ ! -f "$dir/$archive" ]; then
  echo "unarchive: no archive ${archive:-of $BACKUP_PREFIX} in $dir" >&2
  exit 1
fi
if [ "${ALLOW_NONEMPTY:-0}" != 1 ] && [ -n "$(ls -A "$target")" ]; then
  echo "unarchive: $target is not empty; set ALLOW_NONEMPTY=1 to unpack over what is there" >&2
  exit 1
fi
tar --extract --gzip --file="$dir/$archive" --directory="$target" --no-same-owner
echo "unarchive: $archive into $target"
