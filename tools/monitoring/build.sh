#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Build Prometheus' promtool (checks and unit-tests alerting and recording rules) from the Go
# module proxy into ${SHIPYARD_CACHE:-~/.cache/shipyard}/monitoring/<version key>/bin/promtool,
# outside the repo so every clone reuses it. Why from modules: release downloads and images are
# out of reach here; the Go module proxy is.
#
# Idempotent: exits at once when the binary is there; FORCE=1 rebuilds. Cold, on 2 cores: ~5 min,
# adding ~1.6 GB to Go's module cache and ~1.6 GB to its build cache (both shared with every
# other Go build here; promtool links in every service discovery, so all their cloud SDKs);
# with them warm, ~15 s. The binary is ~84 MiB.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.sh
source "$HERE/versions.sh"
WORK=$MONITORING_DIR/work

log() { printf '[monitoring %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# shellcheck source=../gobuild.sh
source "$HERE/../gobuild.sh"
one_binary_or_exit "$PROMTOOL_BIN" promtool

build_promtool() {
  local d=$WORK/promtool src release
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  # promu stamps the VERSION file's release; a mismatch means versions.sh derived it wrongly.
  src=$(module_dir "github.com/prometheus/prometheus@$PROMETHEUS_VERSION")
  release=$(<"$src/VERSION")
  [[ $release == "$PROMTOOL_RELEASE" ]] || die "module says $release, versions.sh $PROMTOOL_RELEASE"
  go mod init shipyard.local/monitoring/promtool >/dev/null 2>&1
  # Prometheus' go.mod has no replaces today; kept so a bump that adds one still builds alike.
  inherit_replaces_of "github.com/prometheus/prometheus@$PROMETHEUS_VERSION"
  gonice get "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION"
  # Tags and -X flags as upstream's .promu.yml, less builtinassets: it only embeds the web UI,
  # which promtool does not import and whose built assets the module zip lacks. Module zips carry
  # no git revision, so --version says "unknown"; a fixed date keeps builds reproducible.
  gonice build -trimpath -tags netgo -o "$MONITORING_BIN/.promtool.tmp" -ldflags "-s -w
    -X github.com/prometheus/common/version.Version=$release
    -X github.com/prometheus/common/version.Branch=HEAD
    -X github.com/prometheus/common/version.BuildUser=shipyard
    -X github.com/prometheus/common/version.BuildDate=19700101-00:00:00" \
    github.com/prometheus/prometheus/cmd/promtool
  # Rename last: an interrupted build never leaves a binary the fast path would take as done.
  mv -f "$MONITORING_BIN/.promtool.tmp" "$PROMTOOL_BIN"
}

total=$(date +%s)
log "building into $MONITORING_BIN (Go $(go env GOVERSION), modules $(go env GOMODCACHE), build cache $(go env GOCACHE))"
piece "promtool $PROMTOOL_RELEASE" build_promtool "$PROMTOOL_BIN"
log "promtool ready in $(( $(date +%s) - total ))s: $("$PROMTOOL_BIN" --version 2>&1 | head -1)"
