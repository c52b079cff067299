#!/bin/sh
# Reads file names, one per line, and prints the backups among them, newest first: names of
# the shape <BACKUP_PREFIX>-YYYYmmddTHHMMSSZ<BACKUP_SUFFIX> (suffix .dump for the database's
# dumps, .tar.gz for a volume's archives). The stamp is fixed-width UTC, so names sort by
# time. Every script that picks or prunes backups reads them through this one.
set -eu

prefix=${BACKUP_PREFIX:-db}
suffix=${BACKUP_SUFFIX:-.dump}
escaped=$(printf '%s' "$suffix" | sed 's/\./\\./g')
grep -E "^$prefix-[0-9]{8}T[0-9]{6}Z$escaped\$" | sort -r || true
