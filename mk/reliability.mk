# Reliability and security: the secret scanner and the checkov scans no other
# fragment runs (Dockerfiles, GitHub workflows), plus `make chaos`, the fault-under-load
# scenarios of tests/reliability that take longer than a minute and write the report.
RELIABILITY_REPORTS ?= $(CURDIR)/.local/reports
CHAOS_ARGS ?=

# checkov findings we accept, with the reason; everything else fails the scan. These live
# here rather than inline because the files belong to other areas (image, nginx, workflows).
#   CKV_DOCKER_2  HEALTHCHECK: Kubernetes ignores it; the chart's probes call /livez, /readyz.
#   CKV_DOCKER_7  "latest tag": FROM names ${BASE_IMAGE}, whose default is pinned by digest.
CHECKOV_DOCKERFILE_SKIPS := CKV_DOCKER_2,CKV_DOCKER_7
#   CKV_GHA_7     workflow_dispatch inputs: deploy.yml's image tag and loadtest.yml's target
#                 and size are operator choices, not build inputs; no artifact is built there.
CHECKOV_WORKFLOW_SKIPS := CKV_GHA_7

LINT_TARGETS += lint-secrets lint-policy

.PHONY: lint-secrets secrets-baseline lint-policy chaos
lint-secrets: $(DEV_STAMP) ## detect-secrets over the tracked files: nothing beyond .secrets.baseline's audited false positives
	@$(VENV_BIN)/python -m mk.secret_scan

secrets-baseline: $(DEV_STAMP) ## Re-scan into .secrets.baseline; then label new findings with `detect-secrets audit .secrets.baseline`
	@$(VENV_BIN)/python -m mk.secret_scan --update

# $(CHECKOV) and its venv rule live in mk/terraform.mk, read after this file: hence the
# recursive make instead of a prerequisite (as in mk/chart.mk).
lint-policy: ## checkov over service/Dockerfile, nginx/Dockerfile and .github/workflows (zero failures)
	@$(MAKE) $(CHECKOV_BIN)
	$(CHECKOV) --quiet --compact --skip-download --framework dockerfile \
	  --file service/Dockerfile --file nginx/Dockerfile --skip-check $(CHECKOV_DOCKERFILE_SKIPS)
	$(CHECKOV) --quiet --compact --skip-download --framework github_actions \
	  --directory .github --skip-check $(CHECKOV_WORKFLOW_SKIPS)

chaos: $(DEV_STAMP) nginx-installed ## Faults under load (tests/reliability, marker chaos); report in .local/reports/reliability.{json,md} [CHAOS_ARGS=]
	@mkdir -p $(RELIABILITY_REPORTS)
	RELIABILITY_REPORT_DIR=$(RELIABILITY_REPORTS) $(VENV_BIN)/pytest -m chaos tests/reliability $(CHAOS_ARGS)
