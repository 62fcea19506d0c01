"""Bad settings stop the process with a message naming the variable."""

import os
import subprocess

import pytest

from harness.service import REPO, TEST_JWT_SECRET

ITEMS_API = str(REPO / ".venv" / "bin" / "items-api")


def check_config(**env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"ENVIRONMENT", "JWT_SECRET"}}
    return subprocess.run(
        [ITEMS_API, "check-config"], env={**clean, **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_POOL_SIZE": "lots"}, "invalid setting DB_POOL_SIZE"),
        ({"PORT": "70000"}, "invalid setting PORT"),
        ({"PORT": "8000", "METRICS_PORT": "8000"}, "invalid setting METRICS_PORT"),
        ({"DATABASE_URL": "mysql://x/y"}, "invalid setting DATABASE_URL"),
        ({"ENVIRONMENT": "prod"}, "invalid setting ENVIRONMENT"),
        ({"TRUSTED_HOSTS": "*"}, "invalid setting TRUSTED_HOSTS"),
        ({"TRUSTED_HOSTS": "localhost,https://x.example"}, "invalid setting TRUSTED_HOSTS"),
        ({"IDEMPOTENCY_RETENTION_S": "0"}, "invalid setting IDEMPOTENCY_RETENTION_S"),
        ({"ENVIRONMENT": "production"}, "JWT_SECRET must be set"),
        ({"ENVIRONMENT": "production", "JWT_SECRET": "short"}, "JWT_SECRET must be set"),
        (
            {"ENVIRONMENT": "production", "JWT_SECRET": TEST_JWT_SECRET, "DEBUG": "true"},
            "DEBUG=true is refused",
        ),
    ],
)
def test_invalid_settings_stop_with_the_variable_named(env, message):
    result = check_config(**env)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_valid_production_settings_print_with_secrets_masked():
    result = check_config(ENVIRONMENT="production", JWT_SECRET=TEST_JWT_SECRET)
    assert result.returncode == 0, result.stderr
    assert TEST_JWT_SECRET not in result.stdout
    assert '"JWT_SECRET": "**********"' in result.stdout


def test_comma_separated_lists():
    from app.core.config import Settings

    settings = Settings(CORS_ORIGINS="https://a.example, https://b.example")
    assert settings.CORS_ORIGINS == ["https://a.example", "https://b.example"]
