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
SCALING_ARGS ?=
BENCH_ARGS ?=
WRK := $(or $(shell command -v wrk 2>/dev/null),/usr/bin/wrk)

LINT_TARGETS += lint-loadtest
TEST_DEPS += $(DEV_STAMP) wrk-installed

.PHONY: loadtest scaling bench wrk-installed lint-loadtest
loadtest: $(DEV_STAMP) ## Locust headless at HOST= (default: make up's nginx); reports in loadtest/reports/<time>/, exit 3 on broken SLOs [USERS= SPAWN_RATE= DURATION= TAGS=]
	@out=$(LOADTEST_REPORTS)/$$(date -u +%Y%m%dT%H%M%SZ); mkdir -p $$out; \
	if [ -z "$${ADMIN_PASSWORD:-}" ] && [ -s .local/admin-credentials ]; then \
	  read -r ADMIN_EMAIL ADMIN_PASSWORD < .local/admin-credentials; export ADMIN_EMAIL ADMIN_PASSWORD; \
	fi; \
	echo "loadtest: $(USERS) users at $(LOADTEST_HOST) for $(DURATION)$(if $(TAGS), tags $(TAGS)); reports in $$out"; \
	status=0; $(VENV_BIN)/locust -f loadtest/locustfile.py --headless --only-summary --loglevel WARNING \
	  --host $(LOADTEST_HOST) -u $(USERS) -r $(SPAWN_RATE) -t $(DURATION) $(if $(TAGS),--tags $(TAGS)) \
	  --slo-file $(SLO_FILE) --csv $$out/stats --html $$out/report.html --json-file $$out/summary || status=$$?; \
	case $$status in 0) ;; 3) echo "loadtest: SLO broken ($(SLO_FILE)); reports in $$out" >&2 ;; \
	  *) echo "loadtest: locust failed (exit $$status); reports in $$out" >&2 ;; esac; \
	exit $$status

scaling: $(DEV_STAMP) wrk-installed ## Worker-scaling study under CPU quotas 1 and 2 (~12 min): loadtest/reports/worker-scaling.{json,md,png} [SCALING_ARGS=]
	$(VENV_BIN)/python -m loadtest.scaling $(SCALING_ARGS)

bench: $(DEV_STAMP) wrk-installed nginx-installed ## Benchmark (~4 min): bare ASGI/FastAPI vs our stack, nginx, raw asyncpg; loadtest/reports/bench.{json,md} [BENCH_ARGS=]
	$(VENV_BIN)/python -m loadtest.bench $(BENCH_ARGS)

wrk-installed: ## Install wrk (the saturation load generator) with apt when missing (root only)
	@if [ -x "$(WRK)" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "wrk-installed: installing wrk with apt"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; \
	else \
	  echo "wrk-installed: wrk is missing; install it with: sudo apt-get install wrk" >&2; exit 1; \
	fi

lint-loadtest: $(DEV_STAMP) ## The locustfile loads and lists its users; the k8s chart passes the main chart's checks
	@out=$$($(VENV_BIN)/locust -f loadtest/locustfile.py --list 2>&1) || { echo "$$out" >&2; exit 1; }
