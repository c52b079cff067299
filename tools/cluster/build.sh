#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build a local Kubernetes control plane from the Go module proxy, for tools/cluster/up.sh:
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  v1.37.2
#   etcd                                                               v3.7.3
#   kwok (fake nodes and kubelets: no container runtime needed)        v0.8.0
#   the CRDs of the add-ons the stacks use (Gateway API, cert-manager, Envoy Gateway, Traefik,
#   the Prometheus operator's monitors and rules)
# into ${SHIPYARD_CACHE:-~/.cache/shipyard}/cluster/<version key>/bin, outside the repo so that
# every clone reuses them.
#
# Why from modules: no container runtime, no kind/minikube image and no release downloads
# are reachable here; the Go module proxy is. Each piece is a small wrapper module in the
# cache dir that requires the upstream module and builds its commands.
#
# Idempotent: a piece whose binaries are in the cache is skipped, and when everything is there
# the script exits at once. FORCE=1 rebuilds. Cold, on 2 cores shared with the engine build:
# ~31 min (Kubernetes ~26, etcd ~1.5, kwok ~3.5); with Go's caches warm, ~30 s.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$HERE/versions.sh"
WORK=$CLUSTER_DIR/work

log() { printf '[cluster %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

complete() {
  local b f
  for b in "${CLUSTER_BINARIES[@]}"; do [[ -x $CLUSTER_BIN/$b ]] || return 1; done
  for f in "${ADDON_CRD_FILES[@]}"; do [[ -s $f ]] || return 1; done
  [[ -s $KWOK_STAGES ]]
}

# Fast path first: nothing here may touch Go, so a no-op run stays well under a second.
if [[ -z ${FORCE:-} ]] && complete; then
  log "up to date: $CLUSTER_BIN (${CLUSTER_BINARIES[*]})"
  exit 0
fi

command -v go >/dev/null || die "Go is needed (the control plane is built from the Go module proxy)"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"

# CGO off: static binaries that do not depend on this machine's libc.
export CGO_ENABLED=0

mkdir -p "$CLUSTER_BIN" "$WORK" "$(dirname "$KWOK_STAGES")"

# shellcheck source=../gobuild.sh
source "$HERE/../gobuild.sh"

# Build into a scratch dir, then move into bin/: an interrupted build never leaves a
# half-written binary that the fast path would take for a finished one.
build_into_bin() { # ldflags packages...
  local tmp=$WORK/.out ldflags=$1 f; shift
  rm -rf "$tmp"; mkdir -p "$tmp"
  gonice build -trimpath -ldflags "$ldflags" -o "$tmp/" "$@"
  for f in "$tmp"/*; do mv -f "$f" "$CLUSTER_BIN/"; done
}

# A `//go:build tools` file importing the commands, so `go mod tidy` records their deps.
tools_go() {
  printf '//go:build tools\n\npackage tools\n\nimport (\n'
  printf '\t_ "%s"\n' "$@"
  printf ')\n'
}

build_kubernetes() {
  local d=$WORK/kubernetes gomod staging m p ldflags="-s -w" pkgs=()
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  gomod=$(module_gomod "k8s.io/kubernetes@$K8S_VERSION")
  # k8s.io/kubernetes points its ~30 staging modules (k8s.io/api, apimachinery, client-go, ...)
  # at ./staging/src/..., which is inside its repo but not in its module zip. The wrapper
  # replaces each with its published release. The list comes from that go.mod, so it follows
  # whatever Kubernetes adds or drops.
  staging=$(go mod edit -json "$gomod" | jq -r '.Replace[] | select(.New.Path | startswith("./staging/")) | .Old.Path')
  [[ -n $staging ]] || die "no ./staging/ replaces in $gomod"
  go mod init shipyard.local/cluster/kubernetes >/dev/null 2>&1
  for m in $staging; do go mod edit -replace "$m=$m@$K8S_STAGING_VERSION"; done
  # Same runtime defaults (GODEBUG) as upstream's binaries: they come from the main module.
  # (`go mod edit -json` leaves godebug out, so read the lines: `godebug k=v` or a block.)
  awk '/^godebug \(/{b=1; next} b && /^\)/{b=0} b{print $1} /^godebug [^(]/{print $2}' "$gomod" \
    | while read -r g; do go mod edit -godebug "$g"; done
  go mod edit -require "k8s.io/kubernetes@$K8S_VERSION"
  for m in "${K8S_BINARIES[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$m"); done
  tools_go "${pkgs[@]}" > tools.go
  gonice mod tidy
  # What `kubectl version` and the API server's /version report; upstream's Makefile sets
  # these from git, which a module build does not have.
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(cut -d. -f2 <<<"$K8S_VERSION")"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  # One build for the four commands: they share most packages, so this is much faster
  # than four separate builds.
  build_into_bin "$ldflags" "${pkgs[@]}"
}

build_etcd() {
  local d=$WORK/etcd
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init shipyard.local/cluster/etcd >/dev/null 2>&1
  inherit_replaces_of "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  # etcd's own main package lives in a module (go.etcd.io/etcd/v3) that pulls in etcdctl,
  # etcdutl and the test tooling; its main is this one call into the server module.
  cat > main.go <<'EOF'
// etcd built from its server module: the same entry point as go.etcd.io/etcd/v3's main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  gonice mod tidy
  build_into_bin "-s -w" .
}

build_kwok() {
  local d=$WORK/kwok st f first=1
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init shipyard.local/cluster/kwok >/dev/null 2>&1
  inherit_replaces_of "sigs.k8s.io/kwok@$KWOK_VERSION"
  go mod edit -require "sigs.k8s.io/kwok@$KWOK_VERSION"
  tools_go sigs.k8s.io/kwok/cmd/kwok > tools.go
  gonice mod tidy
  build_into_bin "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok
  # The stages kwokctl installs by default for nodes (initialize, lease heartbeats) and the
  # "general" pod stages (init containers run and complete, pods go Ready, Jobs succeed).
  st=$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")/kustomize/stage
  for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
           pod/general/{pod-create,pod-init-container-running,pod-init-container-completed,pod-ready,pod-complete,pod-delete}.yaml; do
    [[ -f $st/$f ]] || die "kwok $KWOK_VERSION has no stage $f"
    ((first)) || echo '---'
    first=0
    cat "$st/$f"
  done > "$KWOK_STAGES.tmp"
  mv -f "$KWOK_STAGES.tmp" "$KWOK_STAGES"
}

total=$(date +%s)
log "building into $CLUSTER_BIN (Go $(go env GOVERSION), modules $(go env GOMODCACHE), build cache $(go env GOCACHE))"
k8s_outputs=(); for b in "${K8S_BINARIES[@]}"; do k8s_outputs+=("$CLUSTER_BIN/$b"); done
# One YAML stream per add-on from the files its module ships; written under a temporary
# name and renamed, so a half-copied set is never taken for a finished one.
addon_crds() {
  local dir
  mkdir -p "$ADDON_CRDS"
  bundle() { # add-on files...
    local out=$ADDON_CRDS/$1.yaml f; shift
    for f in "$@"; do printf -- '---\n'; cat "$f"; done > "$out.tmp"
    mv -f "$out.tmp" "$out"
  }
  dir=$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
  bundle gateway-api "$dir"/config/crd/experimental/gateway.networking.k8s.io_*.yaml
  dir=$(module_dir "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION")
  bundle cert-manager "$dir"/deploy/crds/*.yaml
  dir=$(module_dir "github.com/envoyproxy/gateway@$ENVOY_GATEWAY_VERSION")
  bundle envoy-gateway "$dir"/charts/gateway-helm/charts/crds/crds/generated/*.yaml
  dir=$(module_dir "github.com/traefik/traefik/v3@$TRAEFIK_VERSION")
  bundle traefik "$dir/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml"
  dir=$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
  bundle prometheus-operator "$dir"/example/prometheus-operator-crd/monitoring.coreos.com_{servicemonitors,podmonitors,prometheusrules}.yaml
}

piece "kubernetes $K8S_VERSION (${K8S_BINARIES[*]})" build_kubernetes "${k8s_outputs[@]}"
piece "etcd $ETCD_VERSION" build_etcd "$CLUSTER_BIN/etcd"
piece "kwok $KWOK_VERSION" build_kwok "$CLUSTER_BIN/kwok" "$KWOK_STAGES"
piece "add-on CRDs (${ADDONS[*]})" addon_crds "${ADDON_CRD_FILES[@]}"
complete || die "some binaries are missing from $CLUSTER_BIN"
log "control plane binaries ready in $(( $(date +%s) - total ))s; start it with tools/cluster/up.sh"
