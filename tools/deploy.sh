#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# make up / down / preview: the real Pulumi engine on one stack.
#   tools/deploy.sh up|down|preview STACK [extra pulumi arguments]
#
# - The engine is the one tools/engine/build.sh builds (a no-op once built, or when a pulumi
#   with the needed plugins is already on PATH).
# - State lives in a local file backend under build/state unless PULUMI_BACKEND_URL names
#   another (a bucket, Pulumi Cloud).
# - Stack secrets use the passphrase provider; the example stacks' passphrase is
#   `shipyard-example` unless PULUMI_CONFIG_PASSPHRASE (or _FILE) is set.
# - The cluster is the built-in local one (tools/cluster/, started on demand) unless
#   KUBECONFIG names another: point it at your own cluster and nothing else changes.
# - up and preview run the policy pack (policy/), so a mandatory rule that fails, or cannot
#   run, stops them; that is the same command the pull-request workflow runs.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO"

usage() { echo "usage: $0 up|down|preview STACK [pulumi arguments]" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
action=$1 stack=$2
shift 2
case $action in up | down | preview) ;; *) usage ;; esac
if [[ ! -f Pulumi.$stack.yaml ]]; then
  stacks=(Pulumi.*.yaml)
  stacks=("${stacks[@]#Pulumi.}")
  echo "no stack file Pulumi.$stack.yaml (stacks: ${stacks[*]%.yaml})" >&2
  exit 2
fi

bash tools/engine/build.sh
source tools/engine/env.sh

if [[ -z ${PULUMI_BACKEND_URL:-} ]]; then
  mkdir -p build/state
  export PULUMI_BACKEND_URL="file://$REPO/build/state"
fi
if [[ -z ${PULUMI_CONFIG_PASSPHRASE:-} && -z ${PULUMI_CONFIG_PASSPHRASE_FILE:-} ]]; then
  export PULUMI_CONFIG_PASSPHRASE=shipyard-example
fi
if [[ -z ${KUBECONFIG:-} ]]; then
  bash tools/cluster/build.sh
  KUBECONFIG=$(bash tools/cluster/up.sh)
  export KUBECONFIG
fi
echo "stack $stack: state $PULUMI_BACKEND_URL, cluster $KUBECONFIG" >&2

pulumi stack select --create "$stack" --non-interactive >/dev/null
case $action in
  up) pulumi up --stack "$stack" --yes --non-interactive --policy-pack policy "$@" ;;
  preview) pulumi preview --stack "$stack" --non-interactive --policy-pack policy "$@" ;;
  down) pulumi destroy --stack "$stack" --yes --non-interactive "$@" ;;
esac
