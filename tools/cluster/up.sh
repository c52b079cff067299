#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Start a local Kubernetes control plane for shipyard, on 127.0.0.1 only:
#   etcd, kube-apiserver (RBAC, default admission plugins incl. PodSecurity), the controller
#   manager, the scheduler, and kwok, which plays the kubelets of two fake nodes in two zones,
#   plus a default StorageClass with local PersistentVolumes so StatefulSet claims bind.
# No container runtime: pods are scheduled, go Running and Ready, Jobs complete, but no
# container runs (no probes, images, DNS, NetworkPolicy enforcement or metrics).
#
# Prints the kubeconfig path on stdout (everything else goes to stderr), so
#   export KUBECONFIG=$(tools/cluster/up.sh)
# works. Idempotent: when the cluster is already up and healthy it says so and exits 0; a
# half-dead one is stopped and started clean. State, logs and kubeconfig live in build/cluster/
# (gitignored); the PIDs of what it starts go to build/cluster/pids for down.sh.
#
# Binaries come from tools/cluster/build.sh (run first; it is a no-op when they are built).
# Ports (all on 127.0.0.1), each overridable:
#   SHIPYARD_API_PORT=26443 SHIPYARD_ETCD_PORT=26379 SHIPYARD_ETCD_PEER_PORT=26380
#   SHIPYARD_KCM_PORT=26257 SHIPYARD_SCHEDULER_PORT=26259 SHIPYARD_KWOK_PORT=26247
# They sit below Linux's ephemeral range (32768+, where outgoing connections take their
# local ports) and away from the usual 6443/2379/10250s of other local clusters.
# Storage: SHIPYARD_CLUSTER_PVS local volumes (default 20), sizes cycled from
# SHIPYARD_CLUSTER_PV_SIZES (default "10Gi 200Gi": small claims get a small volume, and the
# prod stacks' 100Gi database claims still bind); and SHIPYARD_CLUSTER_SHARED_PVS (default 4)
# ReadWriteMany volumes of SHIPYARD_CLUSTER_SHARED_PV_SIZE (default 100Gi) for shared claims.
# SHIPYARD_CLUSTER_EMPTY=1: none of the add-ons' CRDs either, a cluster as a cloud hands it
# over, for stacks that install the add-ons themselves (addons.*). A second cluster beside the
# first takes its own ports and SHIPYARD_CLUSTER_STATE.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

API_PORT=${SHIPYARD_API_PORT:-26443}
ETCD_PORT=${SHIPYARD_ETCD_PORT:-26379}
ETCD_PEER_PORT=${SHIPYARD_ETCD_PEER_PORT:-26380}
KCM_PORT=${SHIPYARD_KCM_PORT:-26257}
SCHEDULER_PORT=${SHIPYARD_SCHEDULER_PORT:-26259}
KWOK_PORT=${SHIPYARD_KWOK_PORT:-26247}
PV_COUNT=${SHIPYARD_CLUSTER_PVS:-20}
read -r -a PV_SIZES <<<"${SHIPYARD_CLUSTER_PV_SIZES:-10Gi 200Gi}"
SHARED_PV_COUNT=${SHIPYARD_CLUSTER_SHARED_PVS:-4}
SHARED_PV_SIZE=${SHIPYARD_CLUSTER_SHARED_PV_SIZE:-100Gi}
ZONES=(zone-a zone-b)
# Virtual addresses only: nothing is ever sent to them (no kube-proxy, no pod network).
SERVICE_CIDR=10.96.0.0/16

PKI=$STATE/pki LOGS=$STATE/logs DATA=$STATE/data
KUBECTL=$CLUSTER_BIN/kubectl
k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

healthy() {
  local name pid exe
  [[ -f $STATE/READY && -s $PIDS ]] || return 1
  while read -r name pid exe; do ours "$pid" "$exe" || return 1; done < "$PIDS"
  k get --raw /readyz >/dev/null 2>&1 && k wait --for=condition=Ready node --all --timeout=5s >/dev/null 2>&1
}

# The add-ons' CRDs, applied whenever the cluster is brought up or found up (a cluster
# started before an add-on was added gets it too); server-side, so re-applying is cheap.
# A digest of what was applied skips the 5 MB apply when nothing changed; it lives in the
# cluster's state, which tools/cluster/down.sh removes with the cluster.
install_addon_crds() {
  local f digest
  [[ -n ${SHIPYARD_CLUSTER_EMPTY:-} ]] && return
  for f in "${ADDON_CRD_FILES[@]}"; do
    [[ -s $f ]] || die "$f is missing: run tools/cluster/build.sh first"
  done
  digest=$(cat "${ADDON_CRD_FILES[@]}" | sha256sum | cut -c1-64)
  [[ $(cat "$STATE/addon-crds.sha256" 2>/dev/null) == "$digest" ]] && return
  for f in "${ADDON_CRD_FILES[@]}"; do
    k apply --server-side --force-conflicts --field-manager shipyard-cluster -f "$f" >/dev/null
  done
  k wait --for=condition=Established crd --all --timeout=60s >/dev/null
  echo "$digest" > "$STATE/addon-crds.sha256"
}

if healthy; then
  install_addon_crds
  log "already up and healthy (since $(cat "$STATE/READY")); KUBECONFIG=$KUBECONFIG_FILE"
  echo "$KUBECONFIG_FILE"
  exit 0
fi

for b in "${CLUSTER_BINARIES[@]}"; do
  [[ -x $CLUSTER_BIN/$b ]] || die "$CLUSTER_BIN/$b is missing: run tools/cluster/build.sh first"
done
[[ -s $KWOK_STAGES ]] || die "$KWOK_STAGES is missing: run tools/cluster/build.sh first"
command -v openssl >/dev/null || die "openssl is needed for the certificates"
command -v curl >/dev/null || die "curl is needed for the health checks"

started=$SECONDS
if [[ -s $PIDS ]]; then
  log "a previous start is not healthy: stopping what it left and starting clean"
  stop_recorded
fi
# Always from a clean slate: a cluster that is not healthy is not worth keeping.
wipe_state
mkdir -p "$PKI" "$LOGS" "$DATA"

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$API_PORT" "$ETCD_PORT" "$ETCD_PEER_PORT" "$KCM_PORT" "$SCHEDULER_PORT" "$KWOK_PORT"; do
  port_in_use "$p" && die "127.0.0.1:$p is in use; pick other ports with the SHIPYARD_*_PORT variables (see the header of $0)"
done

# If anything below fails, stop what was started (the logs stay for a look).
finished=0
on_exit() {
  if [[ $finished == 0 ]]; then
    stop_recorded
    log "start failed; logs are in $LOGS"
  fi
}
trap on_exit EXIT

# ---------------------------------------------------------------- certificates
# One CA signs everything; the API server trusts it for client certificates, so the
# components authenticate as the users and groups their certificates name.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$PKI/ca.key" -out "$PKI/ca.crt" -days 3650 \
  -subj "/CN=shipyard-local-ca" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null

cert() { # name CN [O] [serving SANs]
  local name=$1 cn=$2 o=${3:-} san=${4:-}
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n $san ]]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$san"
    else echo "extendedKeyUsage=clientAuth"; fi
  } > "$PKI/$name.ext"
  openssl req -new -newkey rsa:2048 -nodes -keyout "$PKI/$name.key" -out "$PKI/$name.csr" \
    -subj "/CN=$cn${o:+/O=$o}" 2>/dev/null
  openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial \
    -days 3650 -sha256 -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>/dev/null
}
# The in-cluster names and the first service IP too, so clients inside "pods" would also verify it.
cert apiserver kube-apiserver "" \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
cert admin shipyard-admin system:masters
cert controller-manager system:kube-controller-manager
cert scheduler system:kube-scheduler
# kwok writes node and pod status for every fake node, which no narrower built-in role allows.
cert kwok kwok-controller system:masters
# For the aggregation layer (API services such as metrics), so the API server can start it.
cert front-proxy-client front-proxy-client
# The key pair that signs and verifies service-account tokens.
openssl genrsa -out "$PKI/sa.key" 2048 2>/dev/null
openssl rsa -in "$PKI/sa.key" -pubout -out "$PKI/sa.pub" 2>/dev/null
chmod 600 "$PKI"/*.key

kubeconfig() { # file certificate-name
  cat > "$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: shipyard-local
  cluster:
    server: https://127.0.0.1:$API_PORT
    certificate-authority: $PKI/ca.crt
users:
- name: $2
  user:
    client-certificate: $PKI/$2.crt
    client-key: $PKI/$2.key
contexts:
- name: shipyard-local
  context: {cluster: shipyard-local, user: $2}
current-context: shipyard-local
EOF
}
kubeconfig "$KUBECONFIG_FILE" admin
for c in controller-manager scheduler kwok; do kubeconfig "$STATE/$c.kubeconfig" "$c"; done

# ---------------------------------------------------------------- processes
launch() { # name executable args...
  local name=$1 exe=$2 pidfile=$STATE/.$1.pid i pid
  shift 2
  # setsid: the servers outlive this script, and a Ctrl-C in the terminal that ran it must not
  # reach them. The wrapper records its own PID and then execs the server, so the recorded
  # PID is the server's even when setsid had to fork.
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$exe" "$@" </dev/null >"$LOGS/$name.log" 2>&1 &
  for ((i = 0; i < 100; i++)); do [[ -s $pidfile ]] && break; sleep 0.05; done
  [[ -s $pidfile ]] || die "$name did not start"
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  echo "$name $pid $exe" >> "$PIDS"
  # Until the exec, the PID still runs bash; wait_for must not take that for a dead server.
  for ((i = 0; i < 100; i++)); do ours "$pid" "$exe" && return; kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  ours "$pid" "$exe" || { cat "$LOGS/$name.log" >&2; die "$name did not start"; }
}

wait_for() { # name seconds check-command...: also fails at once when the process has died
  local name=$1 deadline=$((SECONDS + $2)) pid exe
  shift 2
  read -r _ pid exe < <(grep "^$name " "$PIDS")
  until "$@" >/dev/null 2>&1; do
    if ! ours "$pid" "$exe"; then tail -20 "$LOGS/$name.log" >&2; die "$name exited (log: $LOGS/$name.log)"; fi
    if ((SECONDS >= deadline)); then tail -20 "$LOGS/$name.log" >&2; die "$name not ready after $2s (log: $LOGS/$name.log)"; fi
    sleep 0.2
  done
}

# --unsafe-no-fsync: a throwaway cluster on a shared disk; durability is not worth the latency.
launch etcd "$CLUSTER_BIN/etcd" --name shipyard --data-dir "$DATA/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "shipyard=http://127.0.0.1:$ETCD_PEER_PORT" \
  --unsafe-no-fsync --quota-backend-bytes 2147483648 --log-level warn
wait_for etcd 60 curl -sf "http://127.0.0.1:$ETCD_PORT/health"

# Admission: the default plugin set (NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity,
# ResourceQuota, DefaultStorageClass, the webhooks, ...) plus NodeRestriction, as on a real
# cluster. --endpoint-reconciler-type none: there is one API server and no pod network to
# reach it from, so the `kubernetes` Service's endpoints need no upkeep.
launch kube-apiserver "$CLUSTER_BIN/kube-apiserver" \
  --etcd-servers "http://127.0.0.1:$ETCD_PORT" \
  --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$API_PORT" \
  --endpoint-reconciler-type none \
  --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
  --client-ca-file "$PKI/ca.crt" \
  --requestheader-client-ca-file "$PKI/ca.crt" --requestheader-allowed-names front-proxy-client \
  --requestheader-username-headers X-Remote-User --requestheader-group-headers X-Remote-Group \
  --requestheader-extra-headers-prefix X-Remote-Extra- \
  --proxy-client-cert-file "$PKI/front-proxy-client.crt" --proxy-client-key-file "$PKI/front-proxy-client.key" \
  --service-account-issuer https://kubernetes.default.svc.cluster.local \
  --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
  --api-audiences https://kubernetes.default.svc.cluster.local \
  --service-cluster-ip-range "$SERVICE_CIDR" \
  --authorization-mode Node,RBAC \
  --enable-admission-plugins NodeRestriction \
  --allow-privileged=false \
  --profiling=false
wait_for kube-apiserver 180 k get --raw /readyz

# --use-service-account-credentials: each controller acts as its own service account, so RBAC
# is exercised as on a real cluster. No leader election: there is only one of each.
launch kube-controller-manager "$CLUSTER_BIN/kube-controller-manager" \
  --kubeconfig "$STATE/controller-manager.kubeconfig" \
  --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" \
  --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$KCM_PORT" \
  --leader-elect=false --use-service-account-credentials=true \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-cluster-ip-range "$SERVICE_CIDR" --allocate-node-cidrs=false \
  --controllers '*,bootstrapsigner,tokencleaner' \
  --horizontal-pod-autoscaler-sync-period 15s
launch kube-scheduler "$CLUSTER_BIN/kube-scheduler" \
  --kubeconfig "$STATE/scheduler.kubeconfig" \
  --authentication-kubeconfig "$STATE/scheduler.kubeconfig" \
  --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
  --bind-address 127.0.0.1 --secure-port "$SCHEDULER_PORT" --leader-elect=false

# kwok plays the kubelet of every node annotated kwok.x-k8s.io/node=fake (and of no other
# node): it keeps them Ready through leases and moves their pods through the stages built
# into $KWOK_STAGES. --node-ip and --cidr are made-up addresses it writes into node and pod
# status; nothing is sent to them. Its own server listens on loopback.
# The project's own stages (tools/cluster/stages/) come after kwok's; kwok's init and ready
# stages leave alone the pods that one of them takes over (a step whose command is `false`).
awk '
  /^  name: pod-(ready|init-container-running|init-container-completed)$/ { ours = 1 }
  { print }
  ours && /^    matchExpressions:$/ {
    print "    - key: '"'"'((.spec.initContainers // []) + .spec.containers) | .[].command.[0]'"'"'"
    print "      operator: '"'"'NotIn'"'"'"
    print "      values:"
    print "      - '"'"'false'"'"'"
    ours = 0
  }
' "$KWOK_STAGES" > "$STATE/kwok-stages.yaml"
for stage in "$HERE"/stages/*.yaml; do printf -- '---\n' >> "$STATE/kwok-stages.yaml"; cat "$stage" >> "$STATE/kwok-stages.yaml"; done
launch kwok "$CLUSTER_BIN/kwok" --kubeconfig "$STATE/kwok.kubeconfig" --config "$STATE/kwok-stages.yaml" \
  --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
  --node-lease-duration-seconds 40 \
  --node-ip 10.240.0.1 --node-name kwok-controller --node-port "$KWOK_PORT" \
  --server-address "127.0.0.1:$KWOK_PORT" --cidr 10.244.0.1/16

wait_for kube-controller-manager 120 curl -skf "https://127.0.0.1:$KCM_PORT/healthz"
wait_for kube-scheduler 120 curl -skf "https://127.0.0.1:$SCHEDULER_PORT/healthz"

# ---------------------------------------------------------------- nodes and storage
# Two nodes in two zones, so topology spread constraints and zone anti-affinity have
# somewhere to spread.
nodes=()
for i in "${!ZONES[@]}"; do nodes+=("node-${ZONES[$i]#zone-}"); done
{
  for i in "${!nodes[@]}"; do
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: ${nodes[$i]}
  annotations: {kwok.x-k8s.io/node: fake, node.alpha.kubernetes.io/ttl: "0"}
  labels:
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: ${nodes[$i]}
    node-role.kubernetes.io/agent: ""
    type: kwok
    topology.kubernetes.io/region: local
    topology.kubernetes.io/zone: ${ZONES[$i]}
spec: {}
status:
  allocatable: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 500Gi}
  capacity: {cpu: "32", memory: 256Gi, pods: "110", ephemeral-storage: 500Gi}
  nodeInfo: {architecture: amd64, operatingSystem: linux, kubeletVersion: fake, kubeProxyVersion: fake}
EOF
  done
  # WaitForFirstConsumer: the scheduler picks the node first, then a volume on that node,
  # as with real local volumes. Nothing provisions or deletes volumes, hence Retain.
  cat <<EOF
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: standard
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Retain
EOF
  # Volumes alternate between the nodes, and every size lands on every node.
  for ((i = 0; i < PV_COUNT; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: local-pv-$i
  labels: {topology.kubernetes.io/zone: ${ZONES[$((i % ${#nodes[@]}))]}}
spec:
  capacity: {storage: ${PV_SIZES[$(( (i / ${#nodes[@]}) % ${#PV_SIZES[@]} ))]}}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: standard
  volumeMode: Filesystem
  local: {path: /mnt/shipyard-pv-$i}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [${nodes[$((i % ${#nodes[@]}))]}]}]
EOF
  done
  # Shared volumes (ReadWriteMany only, so no single-pod claim takes one), reachable from
  # every node like an NFS export: what an app's upload folder needs. Nothing mounts them
  # here; the server named is never contacted.
  for ((i = 0; i < SHARED_PV_COUNT; i++)); do
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: shared-pv-$i
spec:
  capacity: {storage: $SHARED_PV_SIZE}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: standard
  volumeMode: Filesystem
  nfs: {server: 127.0.0.1, path: /shipyard-shared-$i}
EOF
  done
} > "$STATE/nodes-and-storage.yaml"
k apply --server-side --field-manager shipyard-cluster -f "$STATE/nodes-and-storage.yaml" >/dev/null

wait_for kwok 60 k wait --for=condition=Ready node --all --timeout=1s
# Pods are refused until their namespace has its default ServiceAccount (the controller
# manager creates it); waiting here saves the first apply a confusing error.
wait_for kube-controller-manager 60 k -n default get serviceaccount default
install_addon_crds

date -u +%FT%TZ > "$STATE/READY"
finished=1
log "up in $((SECONDS - started))s: $(k get nodes --no-headers -L topology.kubernetes.io/zone | awk '{printf "%s(%s,%s) ", $1, $2, $NF}')$PV_COUNT local PVs"
log "KUBECONFIG=$KUBECONFIG_FILE  kubectl: $KUBECTL  (or: source tools/cluster/env.sh)"
echo "$KUBECONFIG_FILE"
