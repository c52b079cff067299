#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the Traefik v3 proxy (the edge in front of the backends) from the Go module proxy into
# ${SHIPYARD_CACHE:-~/.cache/shipyard}/edge/<version key>/bin/traefik, outside the repo so every
# clone reuses it. Why from modules: release downloads and images are out of reach here; the
# Go module proxy is. The web dashboard's assets are not in the module, so its UI is empty.
#
# Idempotent: exits at once when the binary is there; FORCE=1 rebuilds. Cold, on 2 cores: ~7 min
# (~25 s of it downloading modules), adding ~2.4 GB to Go's module cache and ~2.2 GB to its
# build cache (both shared with every other Go build here); with them warm, ~30 s.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$HERE/versions.sh"
WORK=$EDGE_DIR/work

log() { printf '[edge %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=../gobuild.sh
source "$HERE/../gobuild.sh"
one_binary_or_exit "$TRAEFIK_BIN" Traefik

build_traefik() {
  local d=$WORK/traefik gomod
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  gomod=$(module_gomod "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")
  go mod init shipyard.local/edge/traefik >/dev/null 2>&1
  # Traefik's forks of gorilla/mux, go-http-auth and minheap; its local-path replace is below.
  inherit_replaces_of "github.com/traefik/traefik/v3@$TRAEFIK_VERSION"
  # From v3.7 on, github.com/traefik/traefik/dynamic/ext is a nested module (a local-path
  # replace to ./pkg/config/dynamic/ext): left out of the module zip and not served by the proxy.
  # In the open-source build it only holds empty extension points embedded in dynamic.HTTP and
  # dynamic.Router, so a stand-in with those two types is the same program. If a newer Traefik
  # uses more of it, the build fails, naming the missing symbol.
  if go mod edit -json "$gomod" | jq -e '.Replace // [] | any(.Old.Path == "github.com/traefik/traefik/dynamic/ext")' >/dev/null; then
    mkdir -p ext
    printf 'module github.com/traefik/traefik/dynamic/ext\n\ngo 1.24.0\n' > ext/go.mod
    printf 'package ext\n\ntype HTTP struct{}\n\ntype Router struct{}\n' > ext/ext.go
    go mod edit -replace github.com/traefik/traefik/dynamic/ext=./ext
  fi
  gonice get "github.com/traefik/traefik/v3/cmd/traefik@$TRAEFIK_VERSION"
  # Version info as upstream's Makefile sets it from git; a fixed date keeps builds reproducible.
  gonice build -trimpath -o "$EDGE_BIN/.traefik.tmp" -ldflags "-s -w
    -X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION
    -X github.com/traefik/traefik/v3/pkg/version.BuildDate=1970-01-01T00:00:00Z" \
    github.com/traefik/traefik/v3/cmd/traefik
  # Rename last: an interrupted build never leaves a binary the fast path would take as done.
  mv -f "$EDGE_BIN/.traefik.tmp" "$TRAEFIK_BIN"
}

total=$(date +%s)
log "building into $EDGE_BIN (Go $(go env GOVERSION), modules $(go env GOMODCACHE), build cache $(go env GOCACHE))"
piece "traefik $TRAEFIK_VERSION" build_traefik "$TRAEFIK_BIN"
log "traefik ready in $(( $(date +%s) - total ))s: $("$TRAEFIK_BIN" version | head -1)"
