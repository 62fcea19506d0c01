# GitHub Actions (.github/workflows): actionlint with shellcheck over every workflow, and
# the few CI-only glue targets the workflows call (every `run:` step is a make target).
CI_DIR := $(CURDIR)/.local/ci
# Set by GitHub Actions; the defaults let the glue targets run on a laptop too.
GITHUB_REPOSITORY ?= $(notdir $(CURDIR))/items-api
GHCR_IMAGE := ghcr.io/$(shell echo '$(GITHUB_REPOSITORY)' | tr '[:upper:]' '[:lower:]')
AWS_REGION ?=
EKS_CLUSTER ?=

LINT_TARGETS += lint-workflows

.PHONY: lint-workflows shellcheck-installed ci-image-meta ci-ghcr-values ci-kubeconfig-eks
shellcheck-installed: ## Install Debian's shellcheck with apt when missing
	@command -v shellcheck >/dev/null || mk/apt-install shellcheck

lint-workflows: shellcheck-installed $(ACTIONLINT) ## actionlint, with shellcheck on every run: block, over .github/workflows (zero findings)
	$(ACTIONLINT) -no-color -shellcheck="$$(command -v shellcheck)"

# The build arguments `make image` uses (image.mk) and the GHCR name, as key=value lines
# for $GITHUB_OUTPUT, so the Buildx build in ci.yml matches the laptop build.
ci-image-meta: ## Print app_version, git_sha and ghcr_image as key=value lines (for $GITHUB_OUTPUT)
	@echo "app_version=$(APP_VERSION)"
	@echo "git_sha=$(GIT_SHA)"
	@echo "ghcr_image=$(GHCR_IMAGE)"

ci-ghcr-values: ## Write .local/ci/ghcr-values.yaml pointing the chart at the GHCR image (VALUES= for make deploy)
	@mkdir -p $(CI_DIR)
	@printf 'image:\n  registry: ghcr.io\n  repository: %s\n' "$(patsubst ghcr.io/%,%,$(GHCR_IMAGE))" > $(CI_DIR)/ghcr-values.yaml
	@echo "ci-ghcr-values: wrote $(CI_DIR)/ghcr-values.yaml"

# Uses whatever AWS credentials the environment holds (in deploy.yml: short-lived, by OIDC).
ci-kubeconfig-eks: ## Write a kubeconfig context ENV for EKS_CLUSTER= in AWS_REGION= (aws CLI)
	@test -n "$(EKS_CLUSTER)" -a -n "$(AWS_REGION)" -a -n "$(ENV)" || { echo "make $@: set ENV, EKS_CLUSTER and AWS_REGION" >&2; exit 2; }
	aws eks update-kubeconfig --name $(EKS_CLUSTER) --region $(AWS_REGION) --alias $(ENV)
