#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Stage the add-on charts whose sources ship in Go modules as local charts, for
# `addons.<add-on>.chart` on a machine that reaches no chart repository (this one, an air-gapped
# CI runner): cert-manager and Envoy Gateway's gateway-helm, at the versions the stacks pin
# (components/addons/charts.py; the same as the built-in cluster's CRDs, tools/cluster/versions.sh).
#
#   tools/addons/charts.sh            # stage both; prints "<add-on> <chart dir>" lines on stdout
#
# Into ${SHIPYARD_CACHE:-~/.cache/shipyard}/charts/<chart>-<version>/. The modules carry the
# chart's source, which the projects' release tools finish; this does the same finishing:
#   - Chart.yaml's placeholder version and appVersion become the release's, so the image tags
#     the templates derive from appVersion are the release's images;
#   - Envoy Gateway's values.tmpl.yaml becomes values.yaml with the release's gateway image.
# Idempotent (a staged chart is kept); FORCE=1 stages again. Needs Go (the module proxy) and jq.
# Traefik's, ingress-nginx's and kube-prometheus-stack's charts are in no module the proxy serves.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../cluster/versions.sh
source "$HERE/../cluster/versions.sh"
CHARTS=$SHIPYARD_CACHE/charts
WORK=$CHARTS/work

log() { printf '[charts %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# shellcheck source=../gobuild.sh
source "$HERE/../gobuild.sh"

command -v go >/dev/null || die "Go is needed (the charts come from the Go module proxy)"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
mkdir -p "$WORK"

# Copy a chart out of its module (read-only files) and stamp its version; renamed into place
# last, so an interrupted run never leaves a half-staged chart that counts as done.
stage() { # add-on module@version chart-path-in-module version
  local addon=$1 module=$2 path=$3 version=$4 out tmp src
  out=$CHARTS/$(basename "$path")-$version
  if [[ -z ${FORCE:-} && -s $out/Chart.yaml ]]; then echo "$addon $out"; return; fi
  src=$(module_dir "$module")/$path
  [[ -s $src/Chart.yaml ]] || die "$module has no chart at $path"
  tmp=$out.tmp
  rm -rf "$tmp"; cp -r "$src" "$tmp"; chmod -R u+w "$tmp"
  sed -i -E "s/^version: .*/version: $version/; s/^appVersion: .*/appVersion: \"$version\"/" "$tmp/Chart.yaml"
  grep -qx "version: $version" "$tmp/Chart.yaml" || die "could not stamp $tmp/Chart.yaml"
  "finish_$(tr - _ <<<"$addon")" "$tmp" "$version"
  rm -rf "$out"; mv "$tmp" "$out"
  log "$addon: staged $out"
  echo "$addon $out"
}

finish_cert_manager() { :; }  # its templates take every image tag from appVersion

finish_envoy_gateway() { # chart version
  local tmp=$1 version=$2
  [[ -s $tmp/values.tmpl.yaml ]] || die "gateway-helm has no values.tmpl.yaml"
  sed -e "s|\${GatewayImage}|docker.io/envoyproxy/gateway:$version|" \
      -e "s|\${GatewayImagePullPolicy}|IfNotPresent|" "$tmp/values.tmpl.yaml" > "$tmp/values.yaml"
  rm "$tmp/values.tmpl.yaml"
  # shellcheck disable=SC2016 # a literal ${, the placeholders' start
  ! grep -n '\${' "$tmp/values.yaml" || die "gateway-helm values.yaml still has placeholders"
}

stage cert-manager "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION" deploy/charts/cert-manager "$CERT_MANAGER_VERSION"
stage envoy-gateway "github.com/envoyproxy/gateway@$ENVOY_GATEWAY_VERSION" charts/gateway-helm "$ENVOY_GATEWAY_VERSION"
