# The node: its network namespace, containerd, kubelet and kube-proxy (sourced by
# cluster/up after lib.sh).

# render TEMPLATE DEST: writes only a changed file, since kube-proxy exits when its
# config file is rewritten, and a second cluster-up must leave running parts alone.
render() {
  local new
  new=$(render_file "$CLUSTER_DIR/node/$1")
  [ "$new" = "$(cat "$2" 2>/dev/null)" ] || printf '%s\n' "$new" >"$2"
}

setup_network() {
  [ -e "/run/netns/$NETNS" ] && return
  local taken
  taken=$(ip -o route show | awk -v a="$NODE_NET" -v b="$CLUSTER_CIDR" -v c="$SERVICE_CIDR" \
    '$1 == a || $1 == b || $1 == c {print $1" ("$3")"}' | head -n1)
  [ -z "$taken" ] || fail network "route $taken already exists on this machine"
  ip netns add "$NETNS"
  echo "$STATE" >"$OWNER_FILE"
  ip link add "$HOST_IF" type veth peer name "$NODE_IF"
  ip link set "$NODE_IF" netns "$NETNS"
  ip addr add "$HOST_IP/24" dev "$HOST_IF" && ip link set "$HOST_IF" up
  in_netns ip addr add "$NODE_IP/24" dev "$NODE_IF"
  in_netns ip link set "$NODE_IF" up
  in_netns ip link set lo up
  in_netns ip route add default via "$HOST_IP"
  # Pods and Services are reached from the host through the node, as on a real network.
  ip route add "$CLUSTER_CIDR" via "$NODE_IP"
  ip route add "$SERVICE_CIDR" via "$NODE_IP"
  # The node routes for its pods; bridged pod-to-pod traffic must pass kube-proxy's rules.
  in_netns sysctl -qw net.ipv4.ip_forward=1
  modprobe br_netfilter 2>/dev/null || true
  in_netns sysctl -qw net.bridge.bridge-nf-call-iptables=1 ||
    fail network "net.bridge.bridge-nf-call-iptables cannot be set (br_netfilter missing?)"
}

# Makes the node's cgroup in every hierarchy, the kubelet's cgroupRoot (v1 cpuset needs its
# cpus and mems copied from the parent before anything may join).
setup_cgroups() {
  local h f
  for h in $(cgroup_hierarchies); do
    mkdir -p "$h/$CGROUP_NAME" 2>/dev/null || fail cgroups "cannot create $h/$CGROUP_NAME"
    if [ -e "$h/cpuset.cpus" ]; then
      for f in cpuset.cpus cpuset.mems; do cat "$h/$f" >"$h/$CGROUP_NAME/$f"; done
    fi
  done
}

start_node() {
  mkdir -p "$STATE/containerd" "$STATE/cni/net.d" "$STATE/pod-logs" "$STATE/kubelet"
  render containerd.toml "$STATE/containerd.toml"
  mkdir -p "$STATE/containerd/certs.d/$HOST_IP:$REGISTRY_PORT"
  render registry-hosts.toml "$STATE/containerd/certs.d/$HOST_IP:$REGISTRY_PORT/hosts.toml"
  render 10-bridge.conflist "$STATE/cni/net.d/10-bridge.conflist"
  render kubelet.yaml "$STATE/kubelet.yaml"
  render kube-proxy.yaml "$STATE/kube-proxy.yaml"
  start containerd containerd --config "$STATE/containerd.toml"
  wait_for containerd 30 ctr --address "$STATE/containerd/containerd.sock" version
  import_images "pause@$KUBERNETES_VERSION" "coredns@$COREDNS_VERSION" \
    "metrics-server@$METRICS_SERVER_VERSION" "kube-network-policies@$KUBE_NETWORK_POLICIES_VERSION" \
    "traefik@$TRAEFIK_VERSION"

  start kubelet "$BIN/kubelet" --config "$STATE/kubelet.yaml" \
    --kubeconfig "$STATE/node.kubeconfig" --root-dir "$STATE/kubelet" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP"
  start kube-proxy "$BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
  wait_for kubelet 120 kubectl get node "$NODE_NAME"
  wait_for kube-proxy 60 in_netns curl -sf http://127.0.0.1:10256/healthz
}

# import_images NAME@VERSION...: loads the images cluster/build/build saved into the node's
# containerd, unless they are there already.
import_images() {
  local item ctrd=(ctr --address "$STATE/containerd/containerd.sock" -n k8s.io)
  for item; do
    [ -z "$("${ctrd[@]}" images ls -q "name==localhost/cluster/${item/@/:}")" ] || continue
    "${ctrd[@]}" images import --no-unpack "$CACHE/$item/image.tar" >/dev/null ||
      fail containerd "cannot import $CACHE/$item/image.tar"
  done
}
