# The project's virtualenv. Stamps are keyed by the lock file, so a changed lock reinstalls.
PYTHON ?= python3
UV_VERSION := 0.13.9
VENV := $(CURDIR)/.venv
VENV_BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-$(shell cat requirements/runtime.txt pyproject.toml | md5sum | cut -c1-12)
DEV_STAMP := $(VENV)/.dev-$(shell cat requirements/dev.txt pyproject.toml | md5sum | cut -c1-12)
export PATH := $(VENV_BIN):$(PATH)

$(VENV_BIN)/uv:
	@command -v $(PYTHON) >/dev/null || { echo "make: $(PYTHON) not found; install Python 3.11+" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "make: Python 3.11+ is required, $(PYTHON) is older" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV_BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION)

$(RUNTIME_STAMP): | $(VENV_BIN)/uv
	$(VENV_BIN)/uv pip install -q --python $(VENV_BIN)/python --require-hashes -r requirements/runtime.txt
	$(VENV_BIN)/uv pip install -q --python $(VENV_BIN)/python --no-deps -e .
	@rm -f $(VENV)/.runtime-* && touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) deploy/pyproject.toml
	$(VENV_BIN)/uv pip install -q --python $(VENV_BIN)/python --require-hashes -r requirements/dev.txt
	$(VENV_BIN)/uv pip install -q --python $(VENV_BIN)/python --no-deps -e deploy
	@rm -f $(VENV)/.dev-* && touch $@

.PHONY: venv venv-dev lock
venv: $(RUNTIME_STAMP) ## Create .venv with the pinned runtime dependencies
venv-dev: $(DEV_STAMP) ## Add the pinned test and tooling dependencies to .venv

lock: | $(VENV_BIN)/uv ## Re-resolve requirements/*.txt from pyproject.toml
	$(VENV_BIN)/uv pip compile -q pyproject.toml --python-version 3.11 --generate-hashes -o requirements/runtime.txt
	$(VENV_BIN)/uv pip compile -q pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements/dev.txt
