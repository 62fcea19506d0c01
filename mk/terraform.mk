# Terraform checks that need no provider binary (the registry is unreachable here):
# fmt, tflint's bundled ruleset and checkov. `terraform-validate`, `terraform-lock` and
# `terraform-lock-check` need the registry and run in .github/workflows/ci.yml;
# terraform/README.md says which check runs where.
TF ?= terraform
TF_DIR := terraform
# A Terraform filesystem mirror holding hashicorp/aws, when this machine has one: the
# moto apply in tests/terraform installs the provider from it. Without one (CI) `init`
# takes the newest version the module allows from the registry.
TF_PROVIDER_MIRROR ?= $(firstword $(wildcard /opt/tf-plugins))
export TF_PROVIDER_MIRROR
# Root modules commit their .terraform.lock.hcl; mk/terraform-lock writes and checks them
# with checksums for these platforms.
TF_LOCK_ROOTS := $(wildcard $(TF_DIR)/environments/* $(TF_DIR)/examples/*)
export TF_LOCK_PLATFORMS := linux_amd64 linux_arm64 darwin_amd64 darwin_arm64
# TF=tofu runs the same targets with OpenTofu, built from its Go module (below).
TOFU_VERSION := v1.12.6
TOFU := $(TOOLS_BIN)/tofu
TF_BIN = $(if $(filter tofu,$(TF)),$(TOFU),$(TF))
TF_DEPS = $(filter $(TOFU),$(TF_BIN))
TF_ROOTS := $(wildcard $(TF_DIR)/modules/* $(TF_DIR)/environments/* $(TF_DIR)/examples/*)

# checkov pins dependencies that clash with ours, so it lives in its own venv.
CHECKOV_VERSION ?= 3.3.30
CHECKOV_VENV ?= $(HOME)/.cache/items-api/venvs/checkov-$(CHECKOV_VERSION)
CHECKOV_BIN := $(CHECKOV_VENV)/bin/checkov
# Run through the venv's python: the script's shebang breaks if the venv was moved.
CHECKOV ?= $(CHECKOV_VENV)/bin/python $(CHECKOV_BIN)

LINT_TARGETS += lint-terraform

$(CHECKOV_BIN): | $(VENV_BIN)/uv
	$(VENV_BIN)/uv venv -q --python $(PYTHON) $(CHECKOV_VENV)
	$(VENV_BIN)/uv pip install -q --python $(CHECKOV_VENV)/bin/python checkov==$(CHECKOV_VERSION)

.PHONY: lint-terraform terraform-fmt terraform-tflint terraform-checkov terraform-validate terraform-plan-kind terraform-lock terraform-lock-check terraform-moto
lint-terraform: terraform-fmt terraform-tflint terraform-checkov ## fmt, tflint and checkov over terraform/ (no providers needed)

terraform-fmt: $(TF_DEPS) ## terraform fmt -check over terraform/ (TF=tofu for OpenTofu)
	$(TF_BIN) fmt -check -recursive -diff $(TF_DIR)

terraform-tflint: $(TFLINT) ## tflint (bundled terraform ruleset, see terraform/.tflint.hcl) on every module
	$(TFLINT) --chdir=$(TF_DIR) --recursive --config=$(CURDIR)/$(TF_DIR)/.tflint.hcl --format=compact

terraform-checkov: $(CHECKOV_BIN) ## checkov policy scan over all Terraform; skips are inline and justified
	$(CHECKOV) --quiet --compact --framework terraform --directory $(TF_DIR) \
	  --skip-download --download-external-modules false

# The newest provider versions the constraints allow (`init -upgrade`), in a scratch copy
# so the committed lock files stay as they are; mk/terraform-lock validates with those.
terraform-validate: $(TF_DEPS) ## init -upgrade + validate every module and root, newest providers allowed (needs the registry; runs in CI)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r $(TF_DIR) helm deploy "$$tmp"/; \
	for root in $(TF_ROOTS); do \
	  echo "$(TF) validate $$root"; \
	  $(TF_BIN) -chdir="$$tmp/$$root" init -upgrade -backend=false -input=false -no-color >/dev/null && \
	  $(TF_BIN) -chdir="$$tmp/$$root" validate -no-color || exit 1; \
	done

terraform-lock: ## Write every root's .terraform.lock.hcl from the registry, keeping locked versions (needs the registry)
	mk/terraform-lock write $(TF_LOCK_ROOTS)

# Fails on a committed lock that contradicts its root or the registry; a root not (fully)
# locked yet is reported, with the lock to commit in .local/terraform-locks/.
terraform-lock-check: ## Check every root's committed .terraform.lock.hcl against the registry (needs the registry; runs in CI)
	mk/terraform-lock check $(TF_LOCK_ROOTS)

terraform-moto: $(DEV_STAMP) $(TF_DEPS) ## apply + destroy modules/aws-platform against moto (an AWS API emulator on loopback)
	TF=$(TF) $(VENV_BIN)/pytest -q -p no:cacheprovider tests/terraform/test_platform_moto.py

# Plan staging against a throwaway cluster (CI creates it with kind). A copy of the tree
# (terraform/, and the chart and deploy/ files the app module reads)
# gets a local backend override, so the plan needs no bucket; the secrets are dummies
# because a plan never writes them anywhere.
KIND_CONTEXT ?= kind-items-api
PLAN_IMAGE_REPOSITORY ?= items-api/items-api
PLAN_IMAGE_TAG ?= plan-only
terraform-plan-kind: $(TF_DEPS) ## Plan environments/staging against the kube context KIND_CONTEXT (needs the registry; runs in CI)
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cp -r $(TF_DIR) helm deploy "$$tmp"/; \
	printf 'terraform {\n  backend "local" {}\n}\n' > "$$tmp/$(TF_DIR)/environments/staging/backend_override.tf"; \
	$(TF_BIN) -chdir="$$tmp/$(TF_DIR)/environments/staging" init -input=false -no-color >/dev/null; \
	TF_VAR_database_url='postgresql+asyncpg://items:plan-only@postgres:5432/items' \
	TF_VAR_jwt_secret=$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') \
	$(TF_BIN) -chdir="$$tmp/$(TF_DIR)/environments/staging" plan -input=false -no-color \
	  -var kube_context=$(KIND_CONTEXT) -var image_repository=$(PLAN_IMAGE_REPOSITORY) -var image_tag=$(PLAN_IMAGE_TAG)

# OpenTofu's go.mod carries replace directives, which `go install pkg@version` (mk/go-tool)
# refuses; a scratch module with the same replaces builds it. Cached like the other tools.
$(TOFU): mk/terraform.mk
	@dest=$(TOOLS_CACHE)/tofu@$(TOFU_VERSION); \
	if [ ! -x $$dest/tofu ]; then \
	  echo "tofu: building OpenTofu $(TOFU_VERSION) (cold build, cached in $$dest)" >&2; \
	  tmp=$$(mktemp -d) && cd $$tmp && go mod init tofu-build >/dev/null 2>&1 && \
	  gomod=$$(go mod download -json github.com/opentofu/opentofu@$(TOFU_VERSION) | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$$/\1/p') && \
	  sed -n 's/^replace \([^ ]*\) \([^ ]*\) => \([^ ]*\) \([^ ]*\)$$/\1@\2=\3@\4/p' "$$gomod" | \
	    while read -r replace; do go mod edit -replace="$$replace"; done && \
	  go get github.com/opentofu/opentofu/cmd/tofu@$(TOFU_VERSION) && \
	  CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X github.com/opentofu/opentofu/version.dev=no" \
	    -o $$dest/tofu github.com/opentofu/opentofu/cmd/tofu && \
	  cd / && rm -rf $$tmp; \
	fi; \
	mkdir -p $(TOOLS_BIN) && ln -sf $$dest/tofu $@
