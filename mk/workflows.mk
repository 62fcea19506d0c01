# GitHub Actions (.github/workflows): actionlint with shellcheck over every workflow, and
# the few CI-only glue targets the workflows call (every `run:` step is a make target).
AWS_REGION ?=
EKS_CLUSTER ?=

LINT_TARGETS += lint-workflows

.PHONY: lint-workflows shellcheck-installed ci-image-meta ci-release-outputs ci-kubeconfig-eks
shellcheck-installed: ## Install Debian's shellcheck with apt when missing
	@command -v shellcheck >/dev/null || mk/apt-install shellcheck

# zizmor's offline audits (no GitHub API calls); findings it cannot fix are ignored inline
# in the workflow, each with its reason.
lint-workflows: shellcheck-installed $(ACTIONLINT) $(DEV_STAMP) ## actionlint (shellcheck on every run: block) and zizmor over .github (zero findings)
	$(ACTIONLINT) -no-color -shellcheck="$$(command -v shellcheck)"
	$(VENV_BIN)/zizmor --offline --no-progress --format plain .github

# The build arguments and the image name `make image` uses (image.mk), as key=value lines
# for $GITHUB_OUTPUT, so the Buildx build in ci.yml makes the image `make image-push` pushes.
ci-image-meta: ## Print app_version, git_sha and image as key=value lines (for $GITHUB_OUTPUT)
	@echo "app_version=$(APP_VERSION)"
	@echo "git_sha=$(GIT_SHA)"
	@echo "image=$(IMAGE)"

ci-release-outputs: ## Print image_ref (by digest) and chart_version of this run's release (for $GITHUB_OUTPUT)
	@test -n "$(PUSHED_REF)" || { echo "make $@: nothing pushed (make image-push)" >&2; exit 1; }
	@echo "image_ref=$(PUSHED_REF)"
	@echo "chart_version=$(CHART_VERSION)"

# Uses whatever AWS credentials the environment holds (in deploy.yml: short-lived, by OIDC).
ci-kubeconfig-eks: ## Write a kubeconfig context ENV for EKS_CLUSTER= in AWS_REGION= (aws CLI)
	@test -n "$(EKS_CLUSTER)" -a -n "$(AWS_REGION)" -a -n "$(ENV)" || { echo "make $@: set ENV, EKS_CLUSTER and AWS_REGION" >&2; exit 2; }
	aws eks update-kubeconfig --name $(EKS_CLUSTER) --region $(AWS_REGION) --alias $(ENV)
