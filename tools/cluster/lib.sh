# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced by up.sh and down.sh: where a running control plane keeps its state, and the one
# way its processes are tracked (build/cluster/pids), so that down.sh stops exactly what
# up.sh started and nothing else.

_lib_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$_lib_here/versions.sh"
REPO_ROOT=$(cd "$_lib_here/../.." && pwd)

# build/ is gitignored; a clone elsewhere gets its own cluster state.
STATE=${SHIPYARD_CLUSTER_STATE:-$REPO_ROOT/build/cluster}
PIDS=$STATE/pids
KUBECONFIG_FILE=$STATE/kubeconfig

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# pids lines are "name pid executable". A PID alone could have been reused by an unrelated
# process since up.sh ran, so a process counts as ours only while /proc says it still runs
# the executable that was recorded for it.
# (A binary rebuilt while it ran shows as "<path> (deleted)".)
ours() { # pid executable
  local exe
  [[ -n ${1:-} ]] && kill -0 "$1" 2>/dev/null || return 1
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [[ $exe == "$2" || $exe == "$2 (deleted)" ]]
}

recorded() { # prints "name pid executable" lines, if any
  [[ -f $PIDS ]] && cat "$PIDS" || true
}

# Stop every recorded process that is still ours, newest first (kwok and the controllers
# before the API server, the API server before etcd), and forget them.
stop_recorded() {
  local name pid exe i
  [[ -f $PIDS ]] || return 0
  while read -r name pid exe; do
    if ours "$pid" "$exe"; then
      kill -TERM "$pid"
      for ((i = 0; i < 40; i++)); do ours "$pid" "$exe" || break; sleep 0.25; done
      if ours "$pid" "$exe"; then kill -KILL "$pid"; log "$name (pid $pid) killed after 10s"
      else log "$name (pid $pid) stopped"; fi
    fi
  done < <(tac "$PIDS")
  rm -f "$PIDS"
}

# Remove a cluster's state: only the entries up.sh creates, so a mistaken
# SHIPYARD_CLUSTER_STATE can never take anything else with it.
wipe_state() {
  [[ -d $STATE ]] || return 0
  rm -rf "$STATE"/{pki,logs,data} "$STATE"/*.kubeconfig "$STATE"/.*.pid \
         "$KUBECONFIG_FILE" "$PIDS" "$STATE/READY" "$STATE/nodes-and-storage.yaml" \
         "$STATE/kwok-stages.yaml" "$STATE/addon-crds.sha256"
  rmdir "$STATE" 2>/dev/null || log "left $STATE in place: it holds files up.sh did not create"
}
