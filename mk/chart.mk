# The Helm chart: helm lint --strict, rendering over a matrix of values x Kubernetes versions,
# Kubernetes OpenAPI validation of every rendered object (kubernetes-validate, strict), and two
# policy scans (kube-score, checkov) with zero failures. The only exceptions are the annotations
# listed, with their reasons, in items-api.policyReasons (templates/_helpers.tpl).
CHART := helm/items-api
CHART_OUT := $(CURDIR)/.local/chart
CHART_FILES := $(shell find $(CHART) -type f -o -type l 2>/dev/null)
# The oldest supported minor (exec-sleep preStop) and helm's default (native sleep action).
CHART_KUBE_VERSIONS := 1.29.0 1.37.0
CHART_RELEASE := items-api
# A stand-in for the Secret's values: the defaults case renders what `helm install --set` would.
CHART_TEST_SECRETS := --set secrets.databaseUrl=postgresql+asyncpg://items@db:5432/items --set secrets.jwtSecret=render-only-0123456789abcdef0123456789

CHART_CASES := defaults dev e2e staging production all-on all-off
CHART_CASE_defaults := $(CHART_TEST_SECRETS)
CHART_CASE_dev := -f deploy/values/dev.yaml
CHART_CASE_e2e := -f deploy/values/e2e.yaml
CHART_CASE_staging := -f deploy/values/staging.yaml
CHART_CASE_production := -f deploy/values/production.yaml
CHART_CASE_all-on := -f $(CHART)/ci/all-on-values.yaml
# `helm template` only: the Prometheus Operator's API and the Gateway API, so the
# ServiceMonitor and the HTTPRoutes render.
CHART_API_all-on := --api-versions monitoring.coreos.com/v1 --api-versions gateway.networking.k8s.io/v1/HTTPRoute
CHART_CASE_all-off := -f $(CHART)/ci/all-off-values.yaml
CHART_RENDERS := $(foreach c,$(CHART_CASES),$(foreach k,$(CHART_KUBE_VERSIONS),$(CHART_OUT)/$(c)@$(k).yaml))
# In a rendering's recipe: its case and Kubernetes version, from the stem "case@1.29.0".
chart_case = $(word 1,$(subst @, ,$*))
chart_kube = $(word 2,$(subst @, ,$*))

LINT_TARGETS += lint-chart
TEST_DEPS += $(HELM) $(DEV_STAMP)

.PHONY: lint-chart chart-render chart-kube-score chart-checkov template chart-readme
lint-chart: chart-render chart-kube-score chart-checkov ## helm lint --strict, render matrix, Kubernetes schema validation, kube-score and checkov

chart-render: $(CHART_RENDERS) ## Render the chart for every values case and Kubernetes version into .local/chart

# One case at one Kubernetes version: lint, render, validate against that version's schemas.
# CRD kinds (ServiceMonitor, PrometheusRule, HTTPRoute) have no schema there and are only warned about.
$(CHART_OUT)/%.yaml: $(CHART_FILES) $(wildcard deploy/values/*.yaml) | $(HELM) $(DEV_STAMP)
	@mkdir -p $(@D)
	@echo "lint-chart: $(chart_case) values, Kubernetes $(chart_kube): helm lint --strict, template, kubernetes-validate --strict"
	@$(HELM) lint --strict --quiet --kube-version $(chart_kube) $(CHART) $(CHART_CASE_$(chart_case))
	@$(HELM) template $(CHART_RELEASE) $(CHART) --namespace $(CHART_RELEASE)-ci --kube-version $(chart_kube) \
	  $(CHART_CASE_$(chart_case)) $(CHART_API_$(chart_case)) > $@.tmp
	@$(VENV_BIN)/kubernetes-validate --strict --quiet -k $(chart_kube) $@.tmp
	@mv $@.tmp $@

chart-kube-score: $(CHART_RENDERS) | $(KUBE_SCORE) ## kube-score over each rendering (fails on any critical finding)
	@failed=; for f in $(CHART_RENDERS); do \
	  kube=$$(basename $$f .yaml | cut -d@ -f2 | cut -d. -f1-2); \
	  out=$$($(KUBE_SCORE) score --kubernetes-version v$$kube --output-format ci $$f) || failed="$$failed $$(basename $$f)"; \
	  echo "$$out" | grep -Ev '^\[(OK|SKIPPED)\]' | sort -u | sed "s|^|$$(basename $$f): |" || true; \
	done; \
	if [ -n "$$failed" ]; then echo "kube-score: critical findings in$$failed" >&2; exit 1; fi

# One pinned checkov for the whole repo: its venv rule and $(CHECKOV) live in mk/terraform.mk,
# which is read after this file, hence the recursive make instead of a prerequisite.
chart-checkov: $(CHART_RENDERS) ## checkov (kubernetes framework) over every rendering
	@$(MAKE) $(CHECKOV_BIN)
	$(CHECKOV) --quiet --compact --skip-download --framework kubernetes --directory $(CHART_OUT)

template: | $(HELM) ## Print the manifests of ENV= (dev, e2e, staging, production) [IMAGE_TAG= VALUES=]
	@test -f "deploy/values/$(ENV).yaml" || { echo "make template: set ENV to one of: $(basename $(notdir $(wildcard deploy/values/*.yaml)))" >&2; exit 2; }
	@$(HELM) template $(CHART_RELEASE) $(CHART) --namespace $(CHART_RELEASE)-$(ENV) \
	  -f deploy/values/$(ENV).yaml $(foreach f,$(VALUES),-f $(f)) $(if $(IMAGE_TAG),--set image.tag=$(IMAGE_TAG))

chart-readme: ## Regenerate the parameter table of helm/items-api/README.md from values.yaml's @param comments
	$(VENV_BIN)/python -m helm.chart_docs
