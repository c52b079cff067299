#!/bin/sh
# Retention: deletes the dumps in BACKUP_DIR older than RETENTION_DAYS, but never the newest
# KEEP_AT_LEAST of them, whatever their age (a stopped backup must not age out the last ones).
# Age comes from the UTC time in each name (<prefix>-YYYYmmddTHHMMSSZ.dump), not from file
# times, which a copy or a restore of the volume would reset. Other files are left alone.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:-db}
days=${RETENTION_DAYS:?RETENTION_DAYS is not set}
keep=${KEEP_AT_LEAST:?KEEP_AT_LEAST is not set}
cutoff=$(date -u -d "@$(( $(date +%s) - days * 86400 ))" +%Y%m%dT%H%M%SZ)

# Newest first; names sort by time because the stamp is fixed-width UTC.
for f in "$dir/$prefix"-????????T??????Z.dump; do
  if [ -e "$f" ]; then basename "$f"; fi
done | sort -r |
  awk -v keep="$keep" -v cutoff="$prefix-$cutoff.dump" 'NR > keep && $0 < cutoff' |
  while read -r old; do
    rm -f "$dir/$old"
    echo "prune: removed $old"
  done
