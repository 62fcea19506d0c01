# The one entry point: laptops, CI and the GitHub workflows all run these targets.
# Each area keeps its targets in mk/<area>.mk; run `make help` for the list.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Areas append their static checks to LINT_TARGETS and what their tests need to TEST_DEPS.
LINT_TARGETS :=
TEST_DEPS :=

include mk/tools.mk mk/python.mk
include $(filter-out mk/tools.mk mk/python.mk,$(sort $(wildcard mk/*.mk)))

PYTEST_ARGS ?=

.PHONY: help lint test
help: ## Show this list
	@grep -hE '^[a-zA-Z0-9_.-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

lint: $(LINT_TARGETS) ## Every static check

test: lint $(TEST_DEPS) ## Static checks, then the whole pytest suite against real processes
	$(VENV_BIN)/pytest $(PYTEST_ARGS)
