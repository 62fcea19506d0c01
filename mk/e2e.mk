# `make e2e`: the operator's own commands (make deploy, rollback, uninstall, helm test)
# against real pods, with an in-cluster Prometheus evaluating the chart's alert rules. The
# app arrives as the release path ships it (mk/release.mk): image pushed to a registry and
# signed, chart published as an OCI artifact, deployed by digest. Scenarios: tests/e2e/;
# report and plots: .local/reports/e2e.{json,md,*.png}.
# The cluster is the project's own (make cluster-up; it stays up afterwards unless
# E2E_DOWN=1), or any other E2E_KUBECONFIG names, such as ci.yml's kind cluster: then
# nothing starts or stops a cluster, and scenarios that need the lab's own hands are skipped.
E2E_POSTGRES_IMAGE := localhost/items-api-postgres:15
E2E_PROMETHEUS_IMAGE := localhost/items-api-prometheus:$(PROMETHEUS_VERSION)
E2E_KUBECONFIG ?= $(CLUSTER_KUBECONFIG)
E2E_LAB := $(filter $(CLUSTER_KUBECONFIG),$(abspath $(E2E_KUBECONFIG)))
E2E_KUBECTL ?= $(if $(E2E_LAB),$(KUBECTL),kubectl)
# On a kind cluster (ci.yml) the images besides the app's go in with `kind load`.
E2E_KIND_CLUSTER ?=
# The images that are not the app's: the nginx sidecar, the bundled PostgreSQL, Prometheus.
E2E_SIDE_IMAGES = $(NGINX_IMAGE) $(E2E_POSTGRES_IMAGE) $(E2E_PROMETHEUS_IMAGE)
# What e2e-release published for the scenarios: references by digest, as shell exports.
E2E_RELEASE = $(RELEASE_STATE)/e2e.env
E2E_DOWN ?=
E2E_PYTEST_ARGS ?=

.PHONY: e2e e2e-images e2e-release e2e-postgres-image e2e-prometheus-image lint-e2e

e2e-postgres-image: ## PostgreSQL from Debian's packages on the local base, for the chart's bundled StatefulSet
	@$(BUILD_IMAGE) e2e-postgres-image container/postgres/Dockerfile container/postgres $(E2E_POSTGRES_IMAGE)

e2e-prometheus-image: $(PROMETHEUS) ## The pinned Prometheus server in the local base image, for the e2e cluster
	@context=$$(mktemp -d) && trap 'rm -rf "$$context"' EXIT && cp -L $(PROMETHEUS) "$$context/prometheus" && \
	  $(BUILD_IMAGE) e2e-prometheus-image container/prometheus/Dockerfile "$$context" $(E2E_PROMETHEUS_IMAGE)

e2e-images: e2e-postgres-image e2e-prometheus-image ## Build the app image and the side images; copy the side images into the cluster (the app comes from the registry)
	@$(MAKE) $(if $(IMAGE_ARCHIVE),,image) nginx-image
ifeq ($(E2E_KIND_CLUSTER),)
	@$(MAKE) cluster-images CLUSTER_IMAGES="$(E2E_SIDE_IMAGES)"
else
	@archive=$$(mktemp) && trap 'rm -f "$$archive"' EXIT && for image in $(E2E_SIDE_IMAGES); do \
	  container/release/save $$image "$$archive" && kind load image-archive "$$archive" --name $(E2E_KIND_CLUSTER) || exit 1; done
endif

# The app as ci.yml publishes it: the image pushed and signed, the chart pushed to
# oci://REGISTRY/charts; plus a second signed digest to roll to (a new app version) and one
# left unsigned (what `make deploy` must refuse). The local registry unless REGISTRY is set.
e2e-release: $(HELM) $(RELEASE_TOOLS) $(if $(REGISTRY),,registry-up)
	@ref=$$($(MAKE) -s image-push) && $(MAKE) -s image-sign IMAGE_REF=$$ref >/dev/null && \
	next=$$(container/release/variant $$ref org.opencontainers.image.version=e2e-next e2e-next) && \
	$(MAKE) -s image-sign IMAGE_REF=$$next >/dev/null && \
	unsigned=$$(container/release/variant $$ref org.opencontainers.image.version=e2e-unsigned e2e-unsigned) && \
	read -r chart version _ <<<"$$($(MAKE) -s chart-publish)" && \
	printf 'export IMAGE_REF=%s E2E_NEXT_IMAGE_REF=%s E2E_UNSIGNED_IMAGE_REF=%s CHART_REF=%s CHART_VERSION=%s\n' \
	  "$$ref" "$$next" "$$unsigned" "$$chart" "$$version" >$(E2E_RELEASE) && \
	echo "e2e-release: $$ref (signed), chart $$chart $$version" >&2

e2e: $(DEV_STAMP) $(HELM) ## Cluster up, the app published and signed, the e2e scenarios on real pods (report in .local/reports/e2e.*), then the cluster and deploy-tool tests that need a real API server
	@$(if $(E2E_LAB),$(MAKE) cluster-up >/dev/null)
	@$(if $(E2E_KIND_CLUSTER),cluster/kind-routes $(E2E_KIND_CLUSTER))
	@$(MAKE) e2e-images
	@$(MAKE) -s e2e-release
	@rc=0; . $(E2E_RELEASE) && $(if $(REGISTRY),,eval "$$(cluster/registry/registry env)" &&) \
	  E2E=1 KUBECONFIG=$(abspath $(E2E_KUBECONFIG)) E2E_KUBECTL=$(E2E_KUBECTL) \
	  E2E_PROMETHEUS_IMAGE=$(E2E_PROMETHEUS_IMAGE) \
	  $(VENV_BIN)/pytest -m e2e tests/e2e $(E2E_PYTEST_ARGS) || rc=$$?; \
	  $(if $(E2E_LAB),$(VENV_BIN)/pytest -m cluster tests/cluster tests/deploy || rc=$$?;) \
	  if $(if $(and $(E2E_LAB),$(call is_set,$(E2E_DOWN))),true,false); then $(MAKE) cluster-down registry-down; fi; exit $$rc

LINT_TARGETS += lint-e2e

lint-e2e: $(DEV_STAMP) shellcheck-installed ## hadolint and shellcheck the e2e images, ruff over tests/e2e
	$(VENV_BIN)/hadolint container/postgres/Dockerfile container/prometheus/Dockerfile
	shellcheck container/postgres/entrypoint
	$(VENV_BIN)/ruff check tests/e2e
	$(VENV_BIN)/ruff format --check tests/e2e
