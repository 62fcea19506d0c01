# Load tests (loadtest/README.md): the Locust scenario against any stack, the worker-scaling
# study and the benchmark on this machine, distributed Locust on Kubernetes.
LOADTEST_REPORTS ?= $(CURDIR)/loadtest/reports
# HOST only from the command line: the service itself reads HOST (its bind address) from the
# environment, and `make loadtest` must not aim at 0.0.0.0 because a shell exported it.
LOADTEST_HOST = $(if $(filter command line,$(origin HOST)),$(HOST),http://127.0.0.1:8080)
USERS ?= 20
SPAWN_RATE ?= 5
DURATION ?= 1m
TAGS ?=
SLO_FILE ?= loadtest/slo.yaml
# The run's plots (loadtest/observe.py): a throwaway Prometheus scrapes METRICS_URL every
# second: the service's metrics listener (make up's :9000; with HOST= set it too, or no plots).
# PROMETHEUS_URL asks an existing Prometheus instead, for the series of PROMETHEUS_SELECTOR.
METRICS_URL ?= $(if $(filter command line,$(origin HOST)),,http://127.0.0.1:9000/metrics)
PROMETHEUS_URL ?=
PROMETHEUS_SELECTOR ?= job="items-api"
SCALING_ARGS ?=
BENCH_ARGS ?=
WRK := $(or $(shell command -v wrk 2>/dev/null),/usr/bin/wrk)

# Distributed Locust on Kubernetes: loadtest/k8s/locust (its files/ link to the scenario).
LOADTEST_CHART := loadtest/k8s/locust
LOADTEST_RELEASE := items-api-loadtest
LOCUST_VERSION := $(shell sed -n 's/^appVersion: "\(.*\)"/\1/p' $(LOADTEST_CHART)/Chart.yaml)
LOADTEST_IMAGE := localhost/items-api-locust:$(LOCUST_VERSION)
LOADTEST_NAMESPACE ?= items-api
LOADTEST_TARGET ?= http://items-api.$(LOADTEST_NAMESPACE).svc.cluster.local
LOADTEST_WORKERS ?= 2
# Labels of the target pods, when they run in LOADTEST_NAMESPACE: the summary then counts
# requests per pod, e.g. LOADTEST_POD_SELECTOR='{"app.kubernetes.io/name":"items-api"}'.
LOADTEST_POD_SELECTOR ?=
# The main chart's checks (mk/chart.mk) run over this chart by re-entering make with its
# variables pointed here: one recipe for both charts.
LOADTEST_CHART_CHECKS = $(MAKE) chart-render chart-kube-score chart-checkov \
  CHART=$(LOADTEST_CHART) CHART_OUT=$(CURDIR)/.local/loadtest-chart CHART_RELEASE=$(LOADTEST_RELEASE) \
  "CHART_CASES=defaults distributed" CHART_CASE_defaults= \
  "CHART_CASE_distributed=-f $(LOADTEST_CHART)/ci/distributed-values.yaml"

LINT_TARGETS += lint-loadtest
TEST_DEPS += $(DEV_STAMP) wrk-installed

.PHONY: loadtest scaling bench wrk-installed lint-loadtest loadtest-image loadtest-lock loadtest-k8s
loadtest: $(DEV_STAMP) ## Locust headless at HOST= (default: make up's nginx); reports and plots in loadtest/reports/<time>/, exit 3 on broken SLOs [USERS= SPAWN_RATE= DURATION= TAGS= METRICS_URL= PROMETHEUS_URL=]
	@out=$(LOADTEST_REPORTS)/$$(date -u +%Y%m%dT%H%M%SZ); mkdir -p $$out; \
	if [ -z "$${ADMIN_PASSWORD:-}" ] && [ -s .local/admin-credentials ]; then \
	  read -r ADMIN_EMAIL ADMIN_PASSWORD < .local/admin-credentials; export ADMIN_EMAIL ADMIN_PASSWORD; \
	fi; \
	echo "loadtest: $(USERS) users at $(LOADTEST_HOST) for $(DURATION)$(if $(TAGS), tags $(TAGS)); reports in $$out"; \
	$(if $(PROMETHEUS_URL),,$(MAKE) -s $(PROMETHEUS) || true;) \
	status=0; $(VENV_BIN)/python -m loadtest.observe --out $$out --metrics-url '$(METRICS_URL)' \
	  --prometheus-url '$(PROMETHEUS_URL)' --selector '$(PROMETHEUS_SELECTOR)' --prometheus $(PROMETHEUS) -- \
	  $(VENV_BIN)/locust -f loadtest/locustfile.py --headless --only-summary --loglevel WARNING \
	  --host $(LOADTEST_HOST) -u $(USERS) -r $(SPAWN_RATE) -t $(DURATION) $(if $(TAGS),--tags $(TAGS)) \
	  --slo-file $(SLO_FILE) --csv $$out/stats --html $$out/report.html --json-file $$out/summary || status=$$?; \
	case $$status in 0) ;; 3) echo "loadtest: SLO broken ($(SLO_FILE)); reports in $$out" >&2 ;; \
	  *) echo "loadtest: locust failed (exit $$status); reports in $$out" >&2 ;; esac; \
	exit $$status

# The study runs the image `make image` builds; without an engine (or with --target host)
# it measures host processes in a cgroup quota instead, and its report says which.
scaling: $(DEV_STAMP) wrk-installed ## Worker-scaling study: the image under --cpus/--memory 1 and 2 (~16 min): loadtest/reports/worker-scaling.{json,md,png} [SCALING_ARGS=]
	@case " $(SCALING_ARGS) " in *" --target host "*|*" --target=host "*) ;; \
	  *) if container/engine >/dev/null 2>&1; then $(MAKE) --no-print-directory image; fi ;; esac
	$(VENV_BIN)/python -m loadtest.scaling $(SCALING_ARGS)

bench: $(DEV_STAMP) wrk-installed nginx-installed ## Benchmark (~9 min): bare ASGI/FastAPI vs our stack, nginx, raw asyncpg; loadtest/reports/bench.{json,md} [BENCH_ARGS=]
	$(VENV_BIN)/python -m loadtest.bench $(BENCH_ARGS)

wrk-installed: ## Install wrk (the saturation load generator) with apt when missing (root only)
	@if [ -x "$(WRK)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "wrk-installed: installing wrk with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; \
	else \
	  echo "wrk-installed: wrk is missing; install it with: sudo apt-get install wrk" >&2; exit 1; \
	fi

# helm warns about the chart's files/ symlinks on every call; they are intended.
lint-loadtest: $(DEV_STAMP) shellcheck-installed | $(HELM) ## The locustfile loads; the k8s chart passes the main chart's checks; hadolint, shellcheck
	@shellcheck loadtest/k8s/run
	@out=$$($(VENV_BIN)/locust -f loadtest/locustfile.py --list 2>&1) || { echo "$$out" >&2; exit 1; }
	@$(VENV_BIN)/hadolint loadtest/k8s/Dockerfile
	@out=$$($(LOADTEST_CHART_CHECKS) 2>&1) || { echo "$$out" | grep -v 'found symbolic link' >&2; exit 1; }; \
	echo "$$out" | grep -v 'found symbolic link' | grep -v '^make\[' || true

loadtest-lock: | $(VENV_BIN)/uv ## Re-pin the Locust image's packages (loadtest/k8s/requirements.txt)
	$(VENV_BIN)/uv pip compile -q loadtest/k8s/requirements.in --python-version 3.11 --generate-hashes \
	  -o loadtest/k8s/requirements.txt

loadtest-image: ## Build the Locust image (localhost/items-api-locust:<locust version>) from loadtest/k8s/Dockerfile
	@$(BUILD_IMAGE) loadtest-image loadtest/k8s/Dockerfile loadtest/k8s $(LOADTEST_IMAGE)

# On the project cluster (make cluster-up) or any KUBECONFIG: the image goes into the
# cluster's containerd, the admin password into a Secret, then the master Job's exit decides.
loadtest-k8s: loadtest-image | $(HELM) ## Distributed Locust in the cluster against LOADTEST_TARGET [LOADTEST_NAMESPACE= LOADTEST_WORKERS= USERS= DURATION= TAGS=]
	@PROJECT_KUBECONFIG=$(CLUSTER_KUBECONFIG) KUBECTL=$(KUBECTL) loadtest/k8s/run $(HELM) \
	  $(LOADTEST_CHART) $(LOADTEST_RELEASE) $(LOADTEST_NAMESPACE) $(LOADTEST_IMAGE) \
	  --set target.host=$(LOADTEST_TARGET) --set workers.replicas=$(LOADTEST_WORKERS) \
	  --set run.users=$(USERS) --set run.spawnRate=$(SPAWN_RATE) --set run.duration=$(DURATION) \
	  --set-string run.tags="$(TAGS)" \
	  $(if $(LOADTEST_POD_SELECTOR),--set-json 'target.podSelector=$(LOADTEST_POD_SELECTOR)')
