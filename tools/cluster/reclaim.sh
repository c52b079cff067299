#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Make the local cluster's released volumes available again.
#
# Its volumes have no provisioner behind them and keep what they held (Retain), as real
# local volumes do: when a claim goes, its volume is Released and no new claim may bind
# it. On this simulated cluster nothing was ever written to them, so after a stack is
# destroyed its volumes can serve the next one; this drops their old claim reference.
# Only the volumes up.sh made (local-pv-*, shared-pv-*) are touched.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
k() { "$CLUSTER_BIN/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

released=$(k get pv -o jsonpath='{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\n"}{end}' | grep -E '^(local|shared)-pv-[0-9]+$' || true)
for volume in $released; do
  k patch pv "$volume" --type json -p '[{"op": "remove", "path": "/spec/claimRef"}]' >/dev/null
done
log "$(printf '%s\n' "$released" | grep -c . || true) released volumes made available again"
