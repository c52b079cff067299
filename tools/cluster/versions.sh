# shellcheck shell=bash disable=SC2034 # the variables are for the scripts that source this
# Sourced by build.sh, up.sh and down.sh: the control plane's pinned versions, where its
# binaries live (a cache outside the repo) and where a running cluster keeps its state
# (build/cluster/ in the repo, which is gitignored).

K8S_VERSION=v1.37.2
# k8s.io/kubernetes' staging modules (k8s.io/api, client-go, ...) are published as v0.<minor>.<patch>.
K8S_STAGING_VERSION=v0.${K8S_VERSION#v1.}
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0
# Bump when the build steps change in a way that makes older binaries wrong.
CLUSTER_RECIPE_REVISION=1

CLUSTER_KEY="k8s-${K8S_VERSION#v}_etcd-${ETCD_VERSION#v}_kwok-${KWOK_VERSION#v}_r${CLUSTER_RECIPE_REVISION}"
SHIPYARD_CACHE=${SHIPYARD_CACHE:-$HOME/.cache/shipyard}
CLUSTER_DIR=$SHIPYARD_CACHE/cluster/$CLUSTER_KEY
CLUSTER_BIN=$CLUSTER_DIR/bin
# kwok's stage definitions (how fake nodes and pods move through their lifecycle), taken
# from its module at build time so up.sh never needs Go or the network.
KWOK_STAGES=$CLUSTER_DIR/share/kwok-stages.yaml
# The CRDs of the cluster add-ons the stacks use (no controllers: the simulated cluster runs
# nothing), so their custom resources are stored and validated as on a real cluster. Taken
# from the add-ons' Go modules at build time into ADDON_CRDS/<add-on>.yaml. Gateway API
# v1.4.0 (experimental channel, a superset of standard) is the release the proxy implements.
GATEWAY_API_VERSION=v1.4.0
CERT_MANAGER_VERSION=v1.21.2
ENVOY_GATEWAY_VERSION=v1.9.1
# The Prometheus operator's scrape and rule kinds (ServiceMonitor, PodMonitor, PrometheusRule):
# the newest release the Go module proxy serves in full.
PROMETHEUS_OPERATOR_VERSION=v0.89.0
# shellcheck source=tools/edge/versions.sh source-path=SCRIPTDIR/..
source "$(dirname "${BASH_SOURCE[0]}")/../edge/versions.sh"
ADDON_CRDS=$CLUSTER_DIR/share/crds
ADDONS=(gateway-api cert-manager envoy-gateway traefik prometheus-operator)
ADDON_CRD_FILES=()
for _addon in "${ADDONS[@]}"; do ADDON_CRD_FILES+=("$ADDON_CRDS/$_addon.yaml"); done
unset _addon
K8S_BINARIES=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
CLUSTER_BINARIES=("${K8S_BINARIES[@]}" etcd kwok)
