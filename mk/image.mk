# The container image: service/Dockerfile built with docker when its daemon answers,
# otherwise with podman on a Debian base debootstrapped here (no registry is reachable).
# Scripts live in container/; podman always runs with container/containers.conf.
CONTAINERS_CONF ?= $(CURDIR)/container/containers.conf
export CONTAINERS_CONF

IMAGE_NAME ?= localhost/items-api
APP_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
# "-dirty" when what the image is built from differs from the commit, so /version never
# names a commit whose code it does not run.
GIT_SHA := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(if \
  $(shell git status --porcelain -- service pyproject.toml requirements/runtime.txt 2>/dev/null),-dirty)
IMAGE := $(IMAGE_NAME):$(APP_VERSION)-$(GIT_SHA)
IMAGE_DEV := $(IMAGE_NAME):dev
CA_BUNDLE ?= /etc/ssl/certs/ca-certificates.crt
PIP_INDEX_URL ?=
IMAGE_CACHE ?= $(HOME)/.cache/items-api/images
IMAGE_BUILD_LOG := $(CURDIR)/.local/image/image.log

# The local base is keyed by suite, package list and recipe: change any and it is rebuilt.
BASE_SUITE ?= bookworm
BASE_PACKAGES ?=
BASE_KEY := $(shell { echo $(BASE_SUITE) $(BASE_PACKAGES); cat container/debian-base; } | sha256sum | cut -c1-12)
BASE_IMAGE_LOCAL := localhost/debian-base:$(BASE_SUITE)-$(BASE_KEY)
BASE_ARCHIVE := $(IMAGE_CACHE)/debian-$(BASE_SUITE)-minbase-$(BASE_KEY).tar

# What container/build-image reads: every image target builds through it.
export BASE_IMAGE BASE_SUITE BASE_PACKAGES BASE_IMAGE_LOCAL BASE_ARCHIVE CA_BUNDLE
# container/build-image NAME DOCKERFILE CONTEXT TAG...; installs an engine first where none is,
# and debootstrap where podman builds on the local base (podman alone may be there already:
# make cluster-deps installs it).
BUILD_IMAGE = { [ "$$(container/engine 2>/dev/null)" = docker ] \
  || { container/engine >/dev/null 2>&1 && { [ -n "$(BASE_IMAGE)" ] || command -v debootstrap >/dev/null; }; } \
  || $(MAKE) --no-print-directory container-tools; } && container/build-image

# Evaluated once, on first use, so targets that never touch a container never probe one.
CONTAINER_ENGINE = $(eval CONTAINER_ENGINE := $(shell container/engine 2>/dev/null))$(CONTAINER_ENGINE)

# Next to `make up`'s gunicorn on :8000, on the same PostgreSQL (mk/local-stack's defaults).
RUN_IMAGE_PORT ?= 8001
LOCAL_PG_PORT := $(or $(PG_PORT),54329)
RUN_IMAGE_DATABASE_URL ?= $(or $(DATABASE_URL),postgresql+asyncpg://items@127.0.0.1:$(LOCAL_PG_PORT)/items)

LINT_TARGETS += lint-image
TEST_DEPS += image-for-tests

.PHONY: container-tools base-image image image-lock run-image lint-image image-for-tests
container-tools: ## Install podman, runc and debootstrap with apt when missing
	@mk/apt-install podman runc debootstrap

base-image: container-tools ## Debootstrap the local Debian base once (cached in ~/.cache/items-api/images)
	@container/debian-base $(BASE_SUITE) $(BASE_IMAGE_LOCAL) $(BASE_ARCHIVE) $(BASE_PACKAGES)

# With docker the Dockerfile's published, digest-pinned base is used; with podman the
# debootstrapped one. BASE_IMAGE=... overrides either.
image: ## Build localhost/items-api:<version>-<gitsha> and :dev from service/Dockerfile
	@$(BUILD_IMAGE) --log $(IMAGE_BUILD_LOG) --build-arg APP_VERSION=$(APP_VERSION) \
	  --build-arg GIT_SHA=$(GIT_SHA) $(if $(PIP_INDEX_URL),--build-arg PIP_INDEX_URL=$(PIP_INDEX_URL)) \
	  image service/Dockerfile . $(IMAGE) $(IMAGE_DEV)

image-lock: | $(VENV_BIN)/uv ## Re-resolve container/build-requirements.txt from pyproject's [build-system]
	$(VENV_BIN)/python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
	  | $(VENV_BIN)/uv pip compile - -q --python-version 3.11 --generate-hashes \
	      --custom-compile-command "make image-lock" -o container/build-requirements.txt

# tests/image needs a fresh image; where no engine can exist it skips (and CI=true fails).
image-for-tests:
	@if container/engine >/dev/null 2>&1 || [ "$$(id -u)" = 0 ] || [ "$${CI:-}" = true ]; then \
	  $(MAKE) image; \
	else \
	  echo "image: not built, no container engine here; tests/image will be skipped"; \
	fi

run-image: image ## Run the image (hardened) on 127.0.0.1:8001 against the local stack's PostgreSQL
	@[ -n "$(DATABASE_URL)" ] || (exec 3<>/dev/tcp/127.0.0.1/$(LOCAL_PG_PORT)) 2>/dev/null || \
	  { echo "run-image: no PostgreSQL on 127.0.0.1:$(LOCAL_PG_PORT); start the local stack with make up, or set DATABASE_URL" >&2; exit 1; }
	@echo "run-image: http://127.0.0.1:$(RUN_IMAGE_PORT) (Ctrl-C stops it)"
	@DATABASE_URL="$(RUN_IMAGE_DATABASE_URL)" $(CONTAINER_ENGINE) run --rm --network host \
	  --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
	  --env HOST=127.0.0.1 --env PORT=$(RUN_IMAGE_PORT) --env DATABASE_URL $(IMAGE)

CONTAINER_SCRIPTS := container/debian-base container/build-image container/engine

lint-image: $(DEV_STAMP) shellcheck-installed ## hadolint service/Dockerfile, shellcheck container/ (zero findings)
	$(VENV_BIN)/hadolint service/Dockerfile
	shellcheck $(CONTAINER_SCRIPTS)
