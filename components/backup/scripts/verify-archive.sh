#!/bin/sh
# The drill's check of a volume's archives: the newest <prefix>-*.tar.gz in BACKUP_DIR exists,
# is no older than MAX_AGE_SECONDS (an archive was missed) and reads back whole. Fails, with
# one line saying why, otherwise.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:?BACKUP_PREFIX is not set}
max_age=${MAX_AGE_SECONDS:?MAX_AGE_SECONDS is not set}
fail() { echo "drill: FAILED: $*" >&2; exit 1; }

listing=$(ls -1 "$dir")
newest=$(printf '%s\n' "$listing" | grep -E "^$prefix-[0-9]{8}T[0-9]{6}Z\.tar\.gz\$" | sort | tail -n 1 || true)
[ -n "$newest" ] || fail "no archive of $prefix in $dir"
stamp=$(printf '%s' "$newest" | sed -E 's/^.*-([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z\.tar\.gz$/\1-\2-\3 \4:\5:\6/')
age=$(( $(date -u +%s) - $(date -u -d "$stamp" +%s) ))
[ "$age" -le "$max_age" ] || fail "the newest archive, $newest, is ${age}s old; the schedule allows ${max_age}s"
contents=$(tar --list --gzip --file="$dir/$newest") || fail "$newest does not read back"
files=$(printf '%s\n' "$contents" | grep -cv '/$' || true)
echo "drill: $newest (${age}s old) reads back: $files files"
