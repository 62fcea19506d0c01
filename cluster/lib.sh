# Shared by cluster/up, down and status: where things live, the network layout, and how a
# part is started, waited for and reported. Sourced, not run.
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
set -euo pipefail
CLUSTER_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$CLUSTER_DIR/versions.env"
STATE=${CLUSTER_STATE:-$(dirname "$CLUSTER_DIR")/.local/cluster}
CACHE=${CLUSTER_CACHE:-$HOME/.cache/items-api/cluster}
BIN=$CACHE/kubernetes@$KUBERNETES_VERSION
KUBECONFIG=$STATE/admin.kubeconfig
export STATE CACHE KUBECONFIG

# The cluster lives in a network namespace of its own: the node gets a real address
# (kubelet refuses a loopback node IP), its ports never collide with the host's, and
# deleting the namespace takes every iptables rule, bridge and veth of the cluster with it.
# The host reaches nodes, pods and Services through one veth pair and two routes.
NETNS=items-api-cluster
# Names the checkout whose cluster holds the namespace: one cluster per machine.
OWNER_FILE=/run/$NETNS.owner
HOST_IF=iac-host NODE_IF=iac-node
HOST_IP=10.200.0.1 NODE_IP=10.200.0.2 NODE_NET=10.200.0.0/24
POD_CIDR=10.244.0.0/24 CLUSTER_CIDR=10.244.0.0/16
SERVICE_CIDR=10.96.0.0/16 API_SERVICE_IP=10.96.0.1 DNS_SERVICE_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local NODE_NAME=items-api-node
# Every process the harness starts, and every pod, lives under this cgroup, so nothing can
# be left running after cluster-down even if a PID file is lost.
CGROUP_NAME=items-api-cluster
# Built by cluster/build/build as localhost/cluster/NAME:VERSION.
PAUSE_IMAGE=localhost/cluster/pause:$KUBERNETES_VERSION
# The local registry (registry/registry): on the host, which the node reaches at HOST_IP.
# tests/release starts throwaway ones elsewhere.
REGISTRY_PORT=${REGISTRY_PORT:-5443}
REGISTRY_STATE=${REGISTRY_STATE:-$(dirname "$STATE")/registry}
REGISTRY_CA=$REGISTRY_STATE/pki/ca.crt
export PAUSE_IMAGE NETNS NODE_IP HOST_IP POD_CIDR CLUSTER_CIDR SERVICE_CIDR API_SERVICE_IP DNS_SERVICE_IP \
  CLUSTER_DOMAIN NODE_NAME CGROUP_NAME REGISTRY_PORT REGISTRY_CA HOST_IP KUBERNETES_VERSION COREDNS_VERSION METRICS_SERVER_VERSION \
  KUBE_NETWORK_POLICIES_VERSION TRAEFIK_VERSION GATEWAY_API_VERSION

log() { echo "cluster: $*" >&2; }
# fail PART REASON: the one line a user sees when a part cannot start.
fail() {
  echo "cluster: $1 cannot start: $2" >&2
  exit 1
}

in_netns() { nsenter --net="/run/netns/$NETNS" -- "$@"; }
# alive NAME: its recorded process runs, in the cluster's cgroup (so not a stranger that got
# the same PID after a reboot).
alive() {
  [ -s "$STATE/pids/$1.pid" ] && grep -qs "/$CGROUP_NAME/" "/proc/$(cat "$STATE/pids/$1.pid")/cgroup"
}

# The v1 hierarchy that tracks processes, or the unified one on cgroup v2.
tracking_cgroup() {
  if [ -d /sys/fs/cgroup/pids ]; then echo /sys/fs/cgroup/pids; else echo /sys/fs/cgroup; fi
}
# Every cgroup hierarchy mounted here (v1 controllers, or the single v2 tree).
cgroup_hierarchies() { awk '$3 == "cgroup" || $3 == "cgroup2" {print $2}' /proc/self/mounts; }

# start NAME COMMAND...: runs COMMAND inside the namespace and the cgroup as a daemon
# logging to logs/NAME.log, unless a recorded NAME is still running.
start() {
  local name=$1
  shift
  alive "$name" && return
  local cg
  cg=$(tracking_cgroup)/$CGROUP_NAME/system
  mkdir -p "$cg" "$STATE/pids" "$STATE/logs"
  (
    echo "$BASHPID" >"$cg/cgroup.procs"
    # Only stdio goes along: a daemon holding the caller's other files would hold, say, the
    # lock a caller took around `make cluster-up` for as long as the cluster runs.
    for fd in /proc/self/fd/*; do
      fd=${fd##*/}
      [ "$fd" -le 2 ] || eval "exec $fd>&-" 2>/dev/null || true
    done
    exec setsid nsenter --net="/run/netns/$NETNS" -- "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null
  ) &
  local pid=$!
  echo "$pid" >"$STATE/pids/$name.pid"
  # The child puts itself into the cgroup; until it has, `alive` would call it dead. On an
  # idle machine the caller otherwise wins that race and reports a healthy part as exited.
  local tries
  for tries in $(seq 1 100); do
    alive "$name" || { kill -0 "$pid" 2>/dev/null && sleep 0.05 && continue; }
    break
  done
}

# wait_for NAME SECONDS COMMAND...: polls COMMAND until it succeeds; if NAME's process dies
# or time runs out, fails with the last error line of its log.
wait_for() {
  local name=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    if [ -e "$STATE/pids/$name.pid" ] && ! alive "$name"; then
      fail "$name" "exited: $(last_error "$name") (log: $STATE/logs/$name.log)"
    fi
    [ $SECONDS -lt $deadline ] || fail "$name" "not ready after $2s: $(last_error "$name") (log: $STATE/logs/$name.log)"
    sleep 1
  done
}
last_error() {
  local f=$STATE/logs/$1.log
  [ -e "$f" ] || return 0
  { grep -iE '(^E[0-9]{4} |level=(error|fatal)|"level":"(error|fatal)"|error|fatal)' "$f" || tail -n1 "$f"; } |
    tail -n1 | cut -c1-300
}

# render_file TEMPLATE: configs and manifests carry ${VARS} from this file, and only those
# are filled in (perl is on every Debian; envsubst is not).
render_file() {
  perl -pe 's/\$\{(STATE|HOST_IP|REGISTRY_PORT|REGISTRY_CA|NETNS|NODE_IP|POD_CIDR|CLUSTER_CIDR|SERVICE_CIDR|DNS_SERVICE_IP|CLUSTER_DOMAIN|NODE_NAME|CGROUP_NAME|PAUSE_IMAGE|COREDNS_VERSION|METRICS_SERVER_VERSION|KUBE_NETWORK_POLICIES_VERSION|TRAEFIK_VERSION)\}/$ENV{$1}/g' "$1"
}

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG" "$@"; }
