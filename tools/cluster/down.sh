#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stop the local control plane that tools/cluster/up.sh started and remove its state
# (certificates, etcd data, logs, kubeconfig), so the next up.sh starts clean.
# Only the processes recorded in build/cluster/pids are stopped, by PID, and only while
# they still run the binary recorded for them; nothing is looked up by name.
# KEEP_LOGS=1 keeps build/cluster/logs/ (moved to build/cluster-logs/) for a look afterwards.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

if [[ ! -d $STATE ]]; then
  log "not running (no $STATE)"
  exit 0
fi
if [[ -s $PIDS ]]; then stop_recorded; else log "no processes recorded in $PIDS"; fi
if [[ -n ${KEEP_LOGS:-} && -d $STATE/logs ]]; then
  rm -rf "$STATE-logs"; mv "$STATE/logs" "$STATE-logs"; log "logs kept in $STATE-logs"
fi
wipe_state
log "down; state removed"
