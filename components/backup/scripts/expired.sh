#!/bin/sh
# Reads dump names, one per line, and prints those that retention deletes: older than
# RETENTION_DAYS, except the newest KEEP_AT_LEAST, whatever their age (a backup that stopped
# running must not age out the last good dumps). Age comes from the UTC time in each name
# (<prefix>-YYYYmmddTHHMMSSZ<suffix>: .dump, or .tar.gz for a volume's archives), never from
# file times, which copies and restores reset. Names of other shapes are never printed.
# Shared by prune.sh (the volume) and offsite.sh.
set -eu

prefix=${BACKUP_PREFIX:-db}
suffix=${BACKUP_SUFFIX:-.dump}
days=${RETENTION_DAYS:?RETENTION_DAYS is not set}
keep=${KEEP_AT_LEAST:?KEEP_AT_LEAST is not set}
cutoff=$(date -u -d "@$(( $(date +%s) - days * 86400 ))" +%Y%m%dT%H%M%SZ)

sh "$(dirname "$0")/newest-first.sh" |
  awk -v keep="$keep" -v cutoff="$prefix-$cutoff$suffix" 'NR > keep && $0 < cutoff'
