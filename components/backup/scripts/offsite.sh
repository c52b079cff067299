#!/bin/sh
# The off-site copy: uploads every complete dump in BACKUP_DIR that the remote lacks (so a
# failed upload is caught up by the next run), then applies the same retention there.
# rclone reads the remote "offsite" from its RCLONE_CONFIG_OFFSITE_* variables; OFFSITE_PATH
# is <bucket>/<prefix>. Any failed upload or delete exits non-zero.
set -eu

dir=${BACKUP_DIR:?BACKUP_DIR is not set}
prefix=${BACKUP_PREFIX:-db}
suffix=${BACKUP_SUFFIX:-.dump}
remote="offsite:${OFFSITE_PATH:?OFFSITE_PATH is not set}"
pattern="$prefix-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z$suffix"

# Only finished dumps (the partial one is hidden and has another name); never overwrite
# an object already there, and never create the bucket (the credentials need no such right).
rclone copy "$dir" "$remote" --include "$pattern" --immutable --s3-no-check-bucket --stats-one-line --stats=0 -v
expired=$(rclone lsf --files-only "$remote" | sh "$(dirname "$0")/expired.sh")
for old in $expired; do
  rclone deletefile "$remote$old"
  echo "offsite: removed $old"
done
echo "offsite: $(rclone lsf --files-only --include "$pattern" "$remote" | wc -l) files of $prefix in $remote"
