# The release path as operators run it: push the image built by `make image`,
# sign it and attach its SBOM, publish the chart as an OCI artifact, then `make deploy`
# by digest. The registry and its credentials come from the environment:
#   REGISTRY=ghcr.io/OWNER (or ACCOUNT.dkr.ecr.REGION.amazonaws.com, ...), REGISTRY_USER,
#   REGISTRY_PASSWORD; unset, the local registry (`make registry-up`) is used.
#   COSIGN_KEY=path or KMS URI with COSIGN_PASSWORD signs with a key; unset, keyless (OIDC).
# Scripts: cluster/registry/registry and container/release/.
RELEASE_STATE := $(CURDIR)/.local/release
export RELEASE_STATE
# The app image's name in the registry, next to its chart under REGISTRY/charts.
RELEASE_IMAGE_NAME := items-api
# The chart version chart-publish pushes and make deploy pulls with CHART_REF=oci://...
ifndef CHART_VERSION
CHART_VERSION := $(shell sed -n 's/^version: *//p' $(CHART)/Chart.yaml)
endif
# What `make image-sign` signs unless IMAGE_REF= says: what image-push pushed last.
PUSHED_REF = $(shell cat $(RELEASE_STATE)/$(RELEASE_IMAGE_NAME).ref 2>/dev/null)
# The key pair made for this checkout's runs (container/release/signing-key, on first
# use); COSIGN_KEY= (empty, as GitHub's workflows set it) signs keyless.
LOCAL_COSIGN_KEY := $(RELEASE_STATE)/cosign.key
COSIGN_KEY ?= $(LOCAL_COSIGN_KEY)
export COSIGN_KEY
RELEASE_SCRIPTS := cluster/registry/registry $(wildcard container/release/*)

LINT_TARGETS += lint-release
# tests/release starts throwaway registries and signs with the pinned tools.
TEST_DEPS += $(RELEASE_TOOLS) htpasswd-installed

.PHONY: registry-up registry-down image-archive image-push image-sign chart-publish lint-release htpasswd-installed
htpasswd-installed: ## Install Debian's apache2-utils (htpasswd, for the registry's bcrypt users) when missing
	@command -v htpasswd >/dev/null || mk/apt-install apache2-utils

registry-up: $(REGISTRY_BIN) htpasswd-installed ## Start the local registry (TLS from its own CA, basic auth, storage in .local/registry)
	@cluster/registry/registry up

registry-down: ## Stop the local registry (its CA, credentials and blobs stay)
	@cluster/registry/registry down

# The image as one file: what CI scans once and hands to the job that pushes it.
IMAGE_ARCHIVE ?=

image-archive: ## Save the image `make image` built to .local/release/image.tar (docker-archive)
	@container/release/save $(IMAGE) $(RELEASE_STATE)/image.tar && echo "image-archive: $(RELEASE_STATE)/image.tar ($(IMAGE))"

image-push: $(CRANE) ## Push the image `make image` built [or IMAGE_ARCHIVE=] to $REGISTRY/items-api:<version>-<gitsha>; prints it by digest
	@container/release/push $(or $(IMAGE_ARCHIVE),$(IMAGE)) $(RELEASE_IMAGE_NAME) $(lastword $(subst :, ,$(IMAGE)))

image-sign: $(COSIGN) $(SYFT) $(CRANE) ## Sign the pushed digest [IMAGE_REF=...@sha256:] and attach its SBOM as an attestation
	@$(if $(filter $(LOCAL_COSIGN_KEY),$(COSIGN_KEY)),container/release/signing-key $(RELEASE_STATE) &&) container/release/sign "$(or $(IMAGE_REF),$(PUSHED_REF))"

chart-publish: $(HELM) $(CRANE) ## Package the chart at Chart.yaml's version and push it to oci://$REGISTRY/charts
	@container/release/publish-chart $(CHART) $(CHART_VERSION)

lint-release: shellcheck-installed ## shellcheck the registry and release scripts
	shellcheck -x -P SCRIPTDIR -s bash $(RELEASE_SCRIPTS)
