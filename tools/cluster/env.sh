# shellcheck shell=bash source-path=SCRIPTDIR
# source tools/cluster/env.sh: point kubectl (the one tools/cluster/build.sh built, v1.37.2)
# and any Kubernetes client at the local control plane of tools/cluster/up.sh.
# Sets KUBECONFIG=<repo>/build/cluster/kubeconfig and puts the cluster's bin dir first on PATH.

_shipyard_cluster_bin=$(source "$(dirname "${BASH_SOURCE[0]}")/versions.sh" && echo "$CLUSTER_BIN")
_shipyard_cluster_state=${SHIPYARD_CLUSTER_STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/cluster}
case ":$PATH:" in
  *":$_shipyard_cluster_bin:"*) ;;
  *) export PATH="$_shipyard_cluster_bin:$PATH" ;;
esac
export KUBECONFIG="$_shipyard_cluster_state/kubeconfig"
[[ -x $_shipyard_cluster_bin/kubectl ]] || echo "tools/cluster/env.sh: no kubectl in $_shipyard_cluster_bin yet: run tools/cluster/build.sh" >&2
[[ -f $KUBECONFIG ]] || echo "tools/cluster/env.sh: no cluster running yet: run tools/cluster/up.sh" >&2
unset _shipyard_cluster_bin _shipyard_cluster_state
