# Deploying to a cluster: thin wrappers over the deploy tool in deploy/deployctl
# (`.venv/bin/python -m deployctl --help` lists its options and exit codes). The cluster is
# the one KUBECONFIG (or ~/.kube/config) points at; `make cluster-up` starts the project's own.
#   ENV=dev|e2e|staging|production (required)  IMAGE_TAG=  KUBE_CONTEXT= (required for production)
#   VALUES="extra.yaml ..." (after deploy/values/ENV.yaml, e.g. secrets kept outside git)
#   DEPLOY_TIMEOUT=seconds  DRY_RUN=1  REVISION=n (rollback)  YES=1 (uninstall production)
# By digest, as the release path publishes (mk/release.mk); the signature is verified first:
#   IMAGE_REF=REGISTRY/items-api@sha256:...  CHART_REF=oci://REGISTRY/charts/items-api
#   [CHART_VERSION=, default Chart.yaml's]  COSIGN_PUBLIC_KEY= (default: this checkout's key)
#   or, keyless, COSIGN_IDENTITY= [COSIGN_ISSUER=]; registry credentials as in mk/release.mk
ENV ?=
IMAGE_TAG ?=
KUBE_CONTEXT ?=
VALUES ?=
DEPLOY_TIMEOUT ?= 300
DRY_RUN ?=
REVISION ?=
YES ?=
IMAGE_REF ?=
CHART_REF ?=
COSIGN_PUBLIC_KEY ?= $(RELEASE_STATE)/cosign.pub
COSIGN_IDENTITY ?=
COSIGN_ISSUER ?=
# Logged in to the registry (container/release/with-registry) when it pulls from one.
DEPLOYCTL = $(if $(IMAGE_REF)$(filter oci://%,$(CHART_REF)),container/release/with-registry) \
  $(VENV_BIN)/python -m deployctl --env $(ENV) --timeout $(DEPLOY_TIMEOUT) \
  $(if $(KUBE_CONTEXT),--context $(KUBE_CONTEXT)) $(foreach f,$(VALUES),--values $(f)) \
  $(if $(CHART_REF),--chart $(CHART_REF) $(if $(filter oci://%,$(CHART_REF)),--chart-version $(CHART_VERSION))) \
  $(if $(IMAGE_REF),--image $(IMAGE_REF)) \
  $(if $(COSIGN_IDENTITY),--verify-identity $(COSIGN_IDENTITY),$(if $(COSIGN_PUBLIC_KEY),--verify-key $(COSIGN_PUBLIC_KEY))) \
  $(if $(COSIGN_ISSUER),--verify-issuer $(COSIGN_ISSUER))
DEPLOY_REQUIRE_ENV = @test -n "$(ENV)" || { echo "make $@: set ENV=dev|e2e|staging|production" >&2; exit 2; }
is_set = $(filter 1 yes true,$(1))

LINT_TARGETS += lint-deploy
TEST_DEPS += $(HELM) $(HELM_DIFF)

.PHONY: deploy diff status rollback uninstall lint-deploy
deploy: $(DEV_STAMP) $(HELM) $(HELM_DIFF) ## Deploy ENV= [IMAGE_REF=@sha256: CHART_REF= IMAGE_TAG= DRY_RUN=1]: signature, preflight, helm --atomic --wait, verify
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
