# shellcheck shell=bash
# Sourced by tools/engine/build.sh and tools/cluster/build.sh: how both build binaries from
# Go modules, one piece at a time. The caller defines log() and WORK before sourcing it.

# GOTOOLCHAIN=local: the proxy must not be asked for another Go toolchain. -modcacherw keeps
# the module cache deletable by hand; -buildvcs=false because work dirs are no git checkouts.
# GOMODCACHE and GOCACHE stay Go's defaults, so every Go build on the machine shares them.
export GOTOOLCHAIN=local GOFLAGS="${GOFLAGS:+$GOFLAGS }-modcacherw -buildvcs=false"
# The machine has 2 cores and other people on it: every Go step runs at the lowest priority.
gonice() { nice -n 19 go "$@"; }

# Run one piece unless all its outputs are there; one line per piece with its elapsed seconds.
# Go's chatter goes to a log per piece ($WORK/<function>.log), shown when the piece fails.
PIECE_LOG=
piece() { # name function outputs...
  local name=$1 fn=$2 start f missing=0
  shift 2
  for f in "$@"; do [[ -s $f ]] || missing=1; done
  if [[ -z ${FORCE:-} && $missing == 0 ]]; then log "$name: present, skipped (0s)"; return; fi
  start=$(date +%s)
  PIECE_LOG=$WORK/$fn.log
  "$fn" > "$PIECE_LOG" 2>&1
  PIECE_LOG=
  log "$name: built in $(( $(date +%s) - start ))s"
}
show_failed_piece() {
  local rc=$?
  if [[ $rc != 0 && -n $PIECE_LOG ]]; then
    tail -n 40 "$PIECE_LOG" >&2
    log "failed (exit $rc); full log: $PIECE_LOG"
  fi
}
trap show_failed_piece EXIT
