#!/bin/sh
# Prints how many seconds ago the UTC time in a backup's name (<prefix>-YYYYmmddTHHMMSSZ<suffix>)
# was: age comes from the name, never from file times, which copies and restores reset.
set -eu

stamp=$(printf '%s' "${1:?a backup name}" |
  sed -E 's/^.*-([0-9]{4})([0-9]{2})([0-9]{2})T([0-9]{2})([0-9]{2})([0-9]{2})Z[^-]*$/\1-\2-\3 \4:\5:\6/')
echo $(( $(date -u +%s) - $(date -u -d "$stamp" +%s) ))
