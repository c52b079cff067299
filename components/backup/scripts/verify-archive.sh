#!/bin/sh
# The drill's check of a volume's archives: the newest <prefix>-*.tar.gz in BACKUP_DIR exists,
# is no older than MAX_AGE_SECONDS (an archive was missed) and reads back whole. Fails, with
# one line saying why, otherwise.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:?BACKUP_PREFIX is not set}
export BACKUP_SUFFIX="${BACKUP_SUFFIX:-.tar.gz}"
here=$(dirname "$0")
max_age=${MAX_AGE_SECONDS:?MAX_AGE_SECONDS is not set}
fail() { echo "drill: FAILED: $*" >&2; exit 1; }

listing=$(ls -1 "$dir")
newest=$(printf '%s\n' "$listing" | sh "$here/newest-first.sh" | head -n 1)
[ -n "$newest" ] || fail "no archive of $prefix in $dir"
age=$(sh "$here/age.sh" "$newest")
[ "$age" -le "$max_age" ] || fail "the newest archive, $newest, is ${age}s old; the schedule allows ${max_age}s"
contents=$(tar --list --gzip --file="$dir/$newest") || fail "$newest does not read back"
files=$(printf '%s\n' "$contents" | grep -cv '/$' || true)
echo "drill: $newest (${age}s old) reads back: $files files"
