# Deploying to a cluster: thin wrappers over the deploy tool in deploy/deployctl
# (`.venv/bin/python -m deployctl --help` lists its options and exit codes). The cluster is
# the one KUBECONFIG (or ~/.kube/config) points at; `make cluster-up` starts the project's own.
#   ENV=dev|e2e|staging|production (required)  IMAGE_TAG=  KUBE_CONTEXT= (required for production)
#   VALUES="extra.yaml ..." (after deploy/values/ENV.yaml, e.g. secrets kept outside git)
#   DEPLOY_TIMEOUT=seconds  DRY_RUN=1  REVISION=n (rollback)  YES=1 (uninstall production)
ENV ?=
IMAGE_TAG ?=
KUBE_CONTEXT ?=
VALUES ?=
DEPLOY_TIMEOUT ?= 300
DRY_RUN ?=
REVISION ?=
YES ?=
DEPLOYCTL = $(VENV_BIN)/python -m deployctl --env $(ENV) --timeout $(DEPLOY_TIMEOUT) \
  $(if $(KUBE_CONTEXT),--context $(KUBE_CONTEXT)) $(foreach f,$(VALUES),--values $(f))
DEPLOY_REQUIRE_ENV = @test -n "$(ENV)" || { echo "make $@: set ENV=dev|e2e|staging|production" >&2; exit 2; }
is_set = $(filter 1 yes true,$(1))

LINT_TARGETS += lint-deploy
TEST_DEPS += $(HELM) $(HELM_DIFF)

.PHONY: deploy diff status rollback uninstall lint-deploy
deploy: $(DEV_STAMP) $(HELM) $(HELM_DIFF) ## Deploy ENV= [IMAGE_TAG= DRY_RUN=1]: preflight, helm --atomic --wait, verify, summary
	$(DEPLOY_REQUIRE_ENV)
	$(DEPLOYCTL) deploy $(if $(IMAGE_TAG),--image-tag $(IMAGE_TAG)) $(if $(call is_set,$(DRY_RUN)),--dry-run)

diff: $(DEV_STAMP) $(HELM) $(HELM_DIFF) ## What `make deploy ENV= [IMAGE_TAG=]` would change in the cluster (helm-diff, Secret values redacted)
	$(DEPLOY_REQUIRE_ENV)
	$(DEPLOYCTL) diff $(if $(IMAGE_TAG),--image-tag $(IMAGE_TAG))

status: $(DEV_STAMP) $(HELM) ## Show release ENV=: revision, image, pods, /readyz (non-zero when unhealthy)
	$(DEPLOY_REQUIRE_ENV)
	$(DEPLOYCTL) status

rollback: $(DEV_STAMP) $(HELM) ## Roll release ENV= back [REVISION=n, default the previous one], then verify
	$(DEPLOY_REQUIRE_ENV)
	$(DEPLOYCTL) rollback $(if $(REVISION),--revision $(REVISION))

uninstall: $(DEV_STAMP) $(HELM) ## Remove release ENV= (production needs YES=1; PVCs are kept and listed)
	$(DEPLOY_REQUIRE_ENV)
	$(DEPLOYCTL) uninstall $(if $(call is_set,$(YES)),--yes)

lint-deploy: $(DEV_STAMP) ## ruff over the deploy tool and its tests
	$(VENV_BIN)/ruff check deploy tests/deploy
	$(VENV_BIN)/ruff format --check deploy tests/deploy
