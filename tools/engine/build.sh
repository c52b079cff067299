#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build the real Pulumi engine that shipyard deploys with, from the Go module proxy:
#   pulumi                      CLI v3.274.1
#   pulumi-language-python      the Python language host, built against pkg/sdk v3.274.1
#   pulumi-resource-kubernetes  4.25.0
#   pulumi-resource-random      4.21.1
# into ${SHIPYARD_CACHE:-~/.cache/shipyard}/engine/<version key>/bin. `source tools/engine/env.sh`
# then puts them on PATH.
#
# Why built and not downloaded: the only network here is the package registries, so
# get.pulumi.com and GitHub releases are out of reach. The proxy refuses two pieces (the Python
# language host's module and pulumi-random's provider module); upstream snapshots of them sit
# in ../shared/engine/src beside the repo (SHIPYARD_ENGINE_SRC overrides that path).
#
# Idempotent: a piece whose binary is in the cache is skipped, and when everything is there the
# script exits at once. FORCE=1 rebuilds everything. Cold, on 2 cores shared with the cluster
# build: ~40 min (CLI ~15, kubernetes provider ~22); with Go's caches warm, ~1 min. Go's own
# caches (GOMODCACHE, GOCACHE) are used, shared with any other Go build: several GB of modules
# and >10 GB of build cache.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=versions.sh
source "$HERE/versions.sh"
SRC=${SHIPYARD_ENGINE_SRC:-$REPO_ROOT/../shared/engine/src}
WORK=$ENGINE_DIR/work

log() { printf '[engine %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

complete() {
  local b
  for b in "${ENGINE_BINARIES[@]}"; do [[ -x $ENGINE_BIN/$b ]] || return 1; done
}

# Fast path first: nothing here may touch Go, so a no-op run stays well under a second.
if [[ -z ${FORCE:-} ]] && complete; then
  log "up to date: $ENGINE_BIN (${ENGINE_BINARIES[*]})"
  exit 0
fi

# A version of the form x.y.z is at least the wanted one.
at_least() { [[ $(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1) == "$2" ]]; }

# The provider version the project's Python SDK asks the engine for (its pin in
# requirements.txt), or the version built here when there is no pin.
sdk_wants() { # pypi-name fallback
  local v
  v=$(sed -n "s/^$1==\([0-9.]*\).*/\1/p" "$REPO_ROOT/requirements.txt" 2>/dev/null | head -1)
  echo "${v:-$2}"
}

# A provider the engine will use: an "ambient" pulumi-resource-<name> on PATH (taken whatever
# its version, as ours are), else the plugin cache's newest version if it is at least the
# SDK's (the engine only takes a cached plugin at the requested version or newer).
usable_provider() { # name pypi-name fallback-version json
  local amb v
  if amb=$(command -v "pulumi-resource-$1" 2>/dev/null) && [[ $amb != "$SHIPYARD_CACHE"/engine/* ]]; then
    echo "$1 on PATH at $amb"; return
  fi
  v=$(jq -r --arg n "$1" '.[] | select(.kind=="resource" and .name==$n) | .version' <<<"$4" | sort -V | tail -1)
  [[ -n $v ]] && at_least "$v" "$(sdk_wants "$2" "$3")" && echo "$1 $v in the plugin cache"
}

# A Pulumi already installed on PATH, other than an engine of ours (an older version key
# must not stand in for the versions pinned here), with a Python language host and both
# providers: nothing to build then.
existing_engine() {
  local cli dir json k8s rnd lang
  cli=$(command -v pulumi 2>/dev/null) || return 1
  dir=$(cd "$(dirname "$cli")" && pwd)
  [[ $dir == "$SHIPYARD_CACHE"/engine/* ]] && return 1
  # The CLI looks for its language hosts next to itself first, then on PATH.
  if [[ -x $dir/pulumi-language-python ]]; then lang=$dir/pulumi-language-python
  else lang=$(command -v pulumi-language-python 2>/dev/null) || return 1; fi
  json=$(PULUMI_SKIP_UPDATE_CHECK=true timeout 20 "$cli" plugin ls --json 2>/dev/null) || json='[]'
  k8s=$(usable_provider kubernetes pulumi-kubernetes "$K8S_PROVIDER_VERSION" "$json") || return 1
  rnd=$(usable_provider random pulumi-random "$RANDOM_PROVIDER_VERSION" "$json") || return 1
  log "using the Pulumi already on PATH: $cli ($(PULUMI_SKIP_UPDATE_CHECK=true "$cli" version 2>/dev/null)), language host $lang,"
  log "  $k8s, $rnd; nothing to build"
}
if [[ -z ${FORCE:-} ]] && command -v jq >/dev/null && existing_engine; then exit 0; fi

command -v go >/dev/null || die "Go is needed (the engine is built from the Go module proxy)"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
[[ -f $SRC/SOURCES ]] || die "no engine sources at $SRC (expected shared/engine/src beside the repo; set SHIPYARD_ENGINE_SRC)"

mkdir -p "$ENGINE_BIN" "$WORK"

# shellcheck source=../gobuild.sh
source "$HERE/../gobuild.sh"

# `go build -o` into a temporary name, then rename: an interrupted build never leaves a
# half-written binary that the fast path would take for a finished one.
build_to() {
  local out=$1; shift
  gonice build -o "$ENGINE_BIN/.$out.tmp" "$@"
  mv -f "$ENGINE_BIN/.$out.tmp" "$ENGINE_BIN/$out"
}


PULUMI_LDFLAGS="-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"

build_cli() {
  local d=$WORK/pulumi-cli
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init shipyard.local/engine/pulumi-cli >/dev/null 2>&1
  inherit_replaces_of "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION"
  gonice get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
  build_to pulumi -ldflags "$PULUMI_LDFLAGS" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_language_python() {
  local d=$WORK/pulumi-language-python
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  cp "$SRC/pulumi-language-python/main.go" .
  # The upstream module path, so `go version -m` names the real program.
  go mod init github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3 >/dev/null 2>&1
  inherit_replaces_of "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION"
  # Pin pkg and sdk first so tidy resolves everything else against the CLI's release.
  gonice get "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
  gonice mod tidy
  build_to pulumi-language-python -ldflags "$PULUMI_LDFLAGS" .
  # The shim the host runs programs through; it must sit beside the host (found on PATH).
  install -m 0755 "$SRC/pulumi-language-python/pulumi-language-python-exec" "$ENGINE_BIN/"
}

build_kubernetes() {
  local d=$WORK/pulumi-kubernetes-provider mod
  mod=$(module_info "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PROVIDER_MODULE_VERSION" Dir)
  # The module cache is read-only and generate.go writes into the tree: build from a copy.
  rm -rf "$d"; cp -r "$mod" "$d"; chmod -R u+w "$d"; cd "$d"
  # Upstream builds against ../sdk of its own repo, which a module zip does not contain;
  # the tagged Go SDK from the proxy is the same code.
  go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4
  gonice get "github.com/pulumi/pulumi-kubernetes/sdk/v4@$K8S_SDK_VERSION"
  # main.go embeds a versioned copy of schema.json that upstream's Makefile generates.
  (cd cmd/pulumi-resource-kubernetes && VERSION=$K8S_PROVIDER_VERSION gonice run -mod=mod generate.go)
  CGO_ENABLED=0 build_to pulumi-resource-kubernetes -mod=mod \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    ./cmd/pulumi-resource-kubernetes
}

build_random() {
  local d=$WORK/pulumi-random-provider
  rm -rf "$d"; cp -r "$SRC/pulumi-random/provider" "$d"; chmod -R u+w "$d"; cd "$d"
  (cd cmd/pulumi-resource-random && VERSION=$RANDOM_PROVIDER_VERSION gonice run -mod=mod generate.go)
  CGO_ENABLED=0 build_to pulumi-resource-random -mod=mod \
    -ldflags "-s -w -X github.com/pulumi/pulumi-random/provider/v4/pkg/version.Version=$RANDOM_PROVIDER_VERSION" \
    ./cmd/pulumi-resource-random
}

total=$(date +%s)
log "building into $ENGINE_BIN (Go $(go env GOVERSION), modules $(go env GOMODCACHE), build cache $(go env GOCACHE))"
piece pulumi build_cli "$ENGINE_BIN/pulumi"
piece pulumi-language-python build_language_python "$ENGINE_BIN/pulumi-language-python"
# The exec shim comes with the language host; restore it alone if it went missing.
[[ -x $ENGINE_BIN/pulumi-language-python-exec ]] || install -m 0755 "$SRC/pulumi-language-python/pulumi-language-python-exec" "$ENGINE_BIN/"
piece pulumi-resource-kubernetes build_kubernetes "$ENGINE_BIN/pulumi-resource-kubernetes"
piece pulumi-resource-random build_random "$ENGINE_BIN/pulumi-resource-random"
complete || die "some binaries are missing from $ENGINE_BIN"
log "engine ready in $(( $(date +%s) - total ))s: $("$ENGINE_BIN/pulumi" version); source tools/engine/env.sh to use it"
