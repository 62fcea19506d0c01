# The reverse proxy: nginx/templates rendered by nginx/render.py. Everything nginx writes
# locally (pid, temp files, logs, the throwaway certificate) stays in .local/nginx.
NGINX := $(or $(shell command -v nginx 2>/dev/null),/usr/sbin/nginx)
NGINX_LOCAL := $(CURDIR)/.local/nginx
NGINX_CONF := $(NGINX_LOCAL)/conf
NGINX_RENDERED := $(NGINX_LOCAL)/rendered
NGINX_TLS_CERT := $(NGINX_LOCAL)/tls/tls.crt
NGINX_LINT_PROFILES := local tls sidecar
# Extra placeholders for `make up`/`nginx-up`, e.g. NGINX_SET="RATE_LIMIT=500r/s HTTP_PORT=9080".
NGINX_SET ?=
# Standard library only: rendering needs no virtualenv.
NGINX_RENDER = $(PYTHON) nginx/render.py
NGINX_CTL = $(NGINX) -e $(NGINX_LOCAL)/logs/error.log -c $(NGINX_CONF)/nginx.conf
NGINX_RUNNING = { [ -s $(NGINX_LOCAL)/nginx.pid ] && kill -0 "$$(cat $(NGINX_LOCAL)/nginx.pid)" 2>/dev/null; }

LINT_TARGETS += lint-nginx
TEST_DEPS += nginx-installed $(HELM) nginx-image-for-tests

.PHONY: nginx-installed nginx-render lint-nginx nginx-up nginx-down nginx-image nginx-image-for-tests
nginx-installed: ## Install Debian's nginx with apt when missing
	@[ -x "$(NGINX)" ] || mk/apt-install nginx

# Self-signed, for the TLS rendering's nginx -t and the live HTTPS tests only.
$(NGINX_TLS_CERT):
	@mkdir -p $(@D)
	@openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
	  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	  -keyout $(@D)/tls.key -out $@ 2>/dev/null

nginx-render: ## Render each profile (local, tls, sidecar) into .local/nginx/rendered/
	@for profile in $(NGINX_LINT_PROFILES); do \
	  $(NGINX_RENDER) --profile $$profile --out $(NGINX_RENDERED)/$$profile; \
	done

lint-nginx: nginx-render nginx-installed $(NGINX_TLS_CERT) $(DEV_STAMP) ## nginx -t and gixy (zero findings) on every rendering; hadolint
	@$(VENV_BIN)/hadolint nginx/Dockerfile
	@for profile in $(NGINX_LINT_PROFILES); do \
	  conf=$(NGINX_RENDERED)/$$profile/nginx.conf; \
	  $(NGINX) -q -t -e stderr -c $$conf || exit 1; \
	  $(VENV_BIN)/gixy $$conf > $(NGINX_RENDERED)/$$profile/gixy.txt 2>&1 \
	    || { cat $(NGINX_RENDERED)/$$profile/gixy.txt; echo "lint-nginx: gixy findings in $$conf" >&2; exit 1; }; \
	done; \
	echo "lint-nginx: nginx -t and gixy clean for $(NGINX_LINT_PROFILES)"

nginx-up: nginx-installed ## Run nginx on 127.0.0.1:8080 in front of gunicorn on :8000 (reloads if running)
	@$(NGINX_RENDER) --profile local $(addprefix --set ,$(NGINX_SET)) --out $(NGINX_CONF) >/dev/null
	@$(NGINX) -q -t -e stderr -c $(NGINX_CONF)/nginx.conf
	@if $(NGINX_RUNNING); then \
	  $(NGINX_CTL) -s reload && echo "nginx-up: reloaded"; \
	else \
	  $(NGINX_CTL) \
	    && echo "nginx-up: nginx on http://127.0.0.1:8080 (logs in $(NGINX_LOCAL)/logs)"; \
	fi

nginx-down: ## Stop the local nginx gracefully (no-op when it is not running)
	@if $(NGINX_RUNNING); then \
	  $(NGINX_CTL) -s quit && echo "nginx-down: stopped"; \
	fi

# The sidecar image the chart defaults to; with podman it builds on image.mk's local base.
NGINX_IMAGE ?= localhost/items-api-nginx:1.22
nginx-image: ## Build the nginx sidecar image (localhost/items-api-nginx:1.22) from nginx/Dockerfile
	@$(BUILD_IMAGE) nginx-image nginx/Dockerfile nginx $(NGINX_IMAGE)

# tests/nginx/test_sidecar_image.py runs it; built wherever image.mk would build its own.
nginx-image-for-tests:
	@if container/engine >/dev/null 2>&1 || [ "$$(id -u)" = 0 ] || [ "$${CI:-}" = true ]; then \
	  $(MAKE) nginx-image; \
	else \
	  echo "nginx-image: not built, no container engine here; the sidecar image tests will be skipped"; \
	fi
