# The service's own checks.
LINT_TARGETS += lint-python

.PHONY: lint-python format
lint-python: $(DEV_STAMP) ## ruff lint and format check over all Python
	$(VENV_BIN)/ruff check .
	$(VENV_BIN)/ruff format --check .

format: $(DEV_STAMP) ## Apply ruff's fixes and formatting
	$(VENV_BIN)/ruff check --fix .
	$(VENV_BIN)/ruff format .

TEST_DEPS += $(DEV_STAMP)
