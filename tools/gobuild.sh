# shellcheck shell=bash
# Sourced by tools/engine/build.sh, tools/cluster/build.sh and tools/edge/build.sh: how they build
# binaries from Go modules, one piece at a time. The caller defines log(), die() and WORK before
# sourcing it.

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
# The terminal's stderr, kept: a piece that fails under `set -e` exits the script while its
# output still goes to its log, and the summary below must reach the terminal, not the log.
exec {TERMINAL_STDERR}>&2
show_failed_piece() {
  local rc=$?
  if [[ $rc != 0 && -n $PIECE_LOG ]]; then
    {
      tail -n 40 "$PIECE_LOG"
      log "failed (exit $rc); full log: $PIECE_LOG"
    } >&"$TERMINAL_STDERR" 2>&1
  fi
}
trap show_failed_piece EXIT

# A field (GoMod: its go.mod, Dir: its unpacked tree) of module@version, downloaded if needed.
# go mod download -json reports failures inside the JSON, so show that error.
module_info() { # module@version field
  local json
  json=$(gonice mod download -json "$1") || { jq -r '.Error // empty' <<<"$json" >&2; die "cannot download $1"; }
  jq -r ".$2" <<<"$json"
}
module_gomod() { module_info "$1" GoMod; }
module_dir() { module_info "$1" Dir; }

# replace directives only apply in the main module, so a wrapper module must repeat the
# module-to-module replaces of the module it builds (pulumi's pkg swaps atotto/clipboard for a
# fork, Traefik gorilla/mux). Prints them as `go mod edit` flags; local-path ones, which cannot
# apply to a module zip, are skipped.
inherited_replaces() { # go.mod path
  go mod edit -json "$1" | jq -r '.Replace // [] | .[] | select(.New.Version != null)
    | "-replace=\(.Old.Path)\(if .Old.Version then "@"+.Old.Version else "" end)=\(.New.Path)@\(.New.Version)"'
}

# go mod edit with the inherited replaces of module@version's go.mod, if it has any.
inherit_replaces_of() { # module@version
  local flags
  flags=$(inherited_replaces "$(module_gomod "$1")")
  # shellcheck disable=SC2086 # one flag per word
  if [[ -n $flags ]]; then go mod edit $flags; fi
}

# The start of a build of one static binary: exit at once when it is there and FORCE is unset
# (nothing touches Go then, so a no-op run stays well under a second), else check for the
# tools and make the directories.
one_binary_or_exit() { # binary what
  if [[ -z ${FORCE:-} && -x $1 ]]; then
    log "up to date: $1"
    exit 0
  fi
  command -v go >/dev/null || die "Go is needed ($2 is built from the Go module proxy)"
  command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
  # CGO off: a static binary that does not depend on this machine's libc (as upstream ships it).
  export CGO_ENABLED=0
  mkdir -p "$(dirname "$1")" "$WORK"
}
