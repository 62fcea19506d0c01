# The whole stack on this machine: PostgreSQL, gunicorn on :8000 (/metrics on :9000 only),
# nginx on :8080.
# No Docker, no cluster. State lives in .local/ (gitignored).
.PHONY: up down stack-status

up: $(RUNTIME_STAMP) nginx-installed ## Run PostgreSQL, gunicorn (:8000, /metrics on :9000) and nginx (:8080) locally [DATABASE_URL= to use yours]
	@VENV_BIN=$(VENV_BIN) mk/local-stack up
	@$(MAKE) nginx-up
	@read -r email password < .local/admin-credentials; \
	echo; \
	echo "items-api is up:"; \
	echo "  through nginx  http://127.0.0.1:8080/api/v1/items"; \
	echo "  direct         http://127.0.0.1:8000   (docs: /docs, probes: /livez /readyz)"; \
	echo "  metrics        http://127.0.0.1:9000/metrics   (its own listener; 404 on :8000 and :8080)"; \
	echo "  admin          $$email / $$password"; \
	echo "  token          curl -s -X POST http://127.0.0.1:8080/api/v1/auth/token -d username=$$email -d password=$$password"; \
	echo "  logs           .local/gunicorn.log, .local/nginx/logs/"; \
	echo "  stop           make down"

down: ## Stop everything `make up` started
	@$(MAKE) nginx-down
	@mk/local-stack down

stack-status: ## Show whether the local stack runs
	@mk/local-stack status
