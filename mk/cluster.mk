# The single-node test cluster (cluster/README.md): real etcd, control plane, containerd,
# kubelet and kube-proxy in a network namespace of their own. Needs root.
include cluster/versions.env
CLUSTER_CACHE ?= $(HOME)/.cache/items-api/cluster
KUBECTL := $(CLUSTER_CACHE)/kubernetes@$(KUBERNETES_VERSION)/kubectl
CLUSTER_KUBECONFIG := $(CURDIR)/.local/cluster/admin.kubeconfig
# What the cluster's parts run on, all from Debian; installed only when missing.
CLUSTER_DEBS := etcd-server containerd runc containernetworking-plugins iptables nftables conntrack \
  socat podman iproute2 openssl curl gcc libc6-dev
# The app image under both its names (mk/image.mk), so either tag runs without a pull.
CLUSTER_IMAGES ?= $(IMAGE_DEV) $(IMAGE)
CLUSTER_SCRIPTS := cluster/up cluster/down cluster/status cluster/images cluster/kind-routes cluster/build/build \
  cluster/lib.sh $(wildcard cluster/*/*.sh)
export CLUSTER_CACHE

LINT_TARGETS += lint-cluster

.PHONY: cluster-deps cluster-build cluster-up cluster-down cluster-status cluster-images lint-cluster
cluster-deps: ## Install the Debian packages the test cluster runs on, if missing
	@mk/apt-install $(CLUSTER_DEBS)

cluster-build: cluster-deps ## Build the cluster's binaries and images at pinned versions (cached)
	@cluster/build/build

cluster-up: cluster-deps ## Start the single-node test cluster (or reuse it); prints the kubeconfig
	@cluster/up

cluster-down: ## Stop the test cluster and remove all it made
	@cluster/down

cluster-status: ## Show which parts of the test cluster run, its node and pods
	@cluster/status

cluster-images: ## Copy podman images (CLUSTER_IMAGES=...) into the cluster's containerd
	@cluster/images $(CLUSTER_IMAGES)

lint-cluster: shellcheck-installed ## shellcheck the cluster harness scripts (zero findings)
	shellcheck -x -P SCRIPTDIR -s bash $(CLUSTER_SCRIPTS)
