# `make e2e`: the operator's own commands (make deploy, rollback, uninstall, helm test)
# against real pods on the project's cluster (cluster/README.md), with an in-cluster
# Prometheus evaluating the chart's alert rules. Scenarios: tests/e2e/; report and plots:
# .local/reports/e2e.{json,md,*.png}. The cluster stays up afterwards unless E2E_DOWN=1.
E2E_POSTGRES_IMAGE := localhost/items-api-postgres:15
E2E_PROMETHEUS_IMAGE := localhost/items-api-prometheus:$(PROMETHEUS_VERSION)
# A second tag of the same image: a rollout needs a changed pod template, not a new build.
E2E_NEXT_IMAGE = $(IMAGE_NAME):e2e-next
E2E_DOWN ?=
E2E_PYTEST_ARGS ?=

.PHONY: e2e e2e-images e2e-postgres-image e2e-prometheus-image lint-e2e

e2e-postgres-image: ## PostgreSQL from Debian's packages on the local base, for the chart's bundled StatefulSet
	@$(BUILD_IMAGE) e2e-postgres-image container/postgres/Dockerfile container/postgres $(E2E_POSTGRES_IMAGE)

e2e-prometheus-image: $(PROMETHEUS) ## The pinned Prometheus server in the local base image, for the e2e cluster
	@context=$$(mktemp -d) && trap 'rm -rf "$$context"' EXIT && cp -L $(PROMETHEUS) "$$context/prometheus" && \
	  $(BUILD_IMAGE) e2e-prometheus-image container/prometheus/Dockerfile "$$context" $(E2E_PROMETHEUS_IMAGE)

e2e-images: e2e-postgres-image e2e-prometheus-image ## Build the app, nginx sidecar, PostgreSQL and Prometheus images and copy them into the cluster
	@$(MAKE) image nginx-image
	@podman tag $(IMAGE_DEV) $(E2E_NEXT_IMAGE)
	@$(MAKE) cluster-images CLUSTER_IMAGES="$(IMAGE_DEV) $(E2E_NEXT_IMAGE) $(NGINX_IMAGE) $(E2E_POSTGRES_IMAGE) $(E2E_PROMETHEUS_IMAGE)"

e2e: $(DEV_STAMP) $(HELM) ## Cluster up, images in, the e2e scenarios on real pods (report in .local/reports/e2e.*), then the cluster and deploy-tool tests that need a real API server
	@$(MAKE) cluster-up >/dev/null
	@$(MAKE) e2e-images
	@rc=0; E2E=1 KUBECONFIG=$(CLUSTER_KUBECONFIG) E2E_KUBECTL=$(KUBECTL) \
	  E2E_PROMETHEUS_IMAGE=$(E2E_PROMETHEUS_IMAGE) E2E_NEXT_TAG=$(lastword $(subst :, ,$(E2E_NEXT_IMAGE))) \
	  $(VENV_BIN)/pytest -m e2e tests/e2e $(E2E_PYTEST_ARGS) || rc=$$?; \
	  $(VENV_BIN)/pytest -m cluster tests/cluster tests/deploy || rc=$$?; \
	  if $(if $(call is_set,$(E2E_DOWN)),true,false); then $(MAKE) cluster-down; fi; exit $$rc

LINT_TARGETS += lint-e2e

lint-e2e: $(DEV_STAMP) shellcheck-installed ## hadolint and shellcheck the e2e images, ruff over tests/e2e
	$(VENV_BIN)/hadolint container/postgres/Dockerfile container/prometheus/Dockerfile
	shellcheck container/postgres/entrypoint
	$(VENV_BIN)/ruff check tests/e2e
	$(VENV_BIN)/ruff format --check tests/e2e
