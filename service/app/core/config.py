"""The one settings object. Every field is an environment variable of the same name."""

import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_JWT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development
MIN_JWT_SECRET_LENGTH = 32
PROBE_PATHS = ("/livez", "/readyz", "/metrics")

CommaList = Annotated[list[str], NoDecode]


def _package_version() -> str:
    try:
        return version("items-api")
    except PackageNotFoundError:
        return "0.0.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    ENVIRONMENT: Literal["development", "test", "staging", "production"] = "development"
    DEBUG: bool = False
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    APP_VERSION: str = Field(default_factory=_package_version)
    GIT_SHA: str = "unknown"

    DATABASE_URL: SecretStr = SecretStr("postgresql+asyncpg://items@127.0.0.1:5432/items")
    DB_POOL_SIZE: int = Field(5, ge=1, le=100)
    DB_MAX_OVERFLOW: int = Field(5, ge=0, le=100)
    DB_POOL_TIMEOUT_S: float = Field(5.0, gt=0, le=120)
    DB_CONNECT_TIMEOUT_S: float = Field(3.0, gt=0, le=60)
    DB_STATEMENT_TIMEOUT_MS: int = Field(5000, ge=0, le=600_000)
    # Off behind PgBouncer in transaction mode, where a prepared statement may land on another
    # server connection.
    DB_PREPARED_STATEMENT_CACHE: bool = True
    READINESS_DB_TIMEOUT_S: float = Field(1.0, gt=0, le=30)

    JWT_SECRET: SecretStr = SecretStr(DEFAULT_JWT_SECRET)
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(15, ge=1, le=1440)

    CORS_ORIGINS: CommaList = []
    TRUSTED_HOSTS: CommaList = ["*"]
    FORWARDED_ALLOW_IPS: str = "127.0.0.1"
    ACCESS_LOG_EXCLUDE_PATHS: CommaList = list(PROBE_PATHS)
    METRICS_EXCLUDE_PATHS: CommaList = list(PROBE_PATHS)
    GZIP_MIN_BYTES: int = Field(1000, ge=0)

    HOST: str = "127.0.0.1"
    PORT: int = Field(8000, ge=1, le=65535)
    WEB_CONCURRENCY: int | None = Field(None, ge=1, le=256)
    WORKERS_PER_CPU: float = Field(1.0, gt=0, le=8)
    MAX_WORKERS: int = Field(8, ge=1, le=256)
    WORKER_MEMORY_MB: int = Field(120, ge=16, le=8192)
    GRACEFUL_TIMEOUT_S: int = Field(20, ge=1, le=600)
    KEEPALIVE_S: int = Field(75, ge=1, le=3600)
    MAX_REQUESTS: int = Field(10_000, ge=0)
    MAX_REQUESTS_JITTER: int = Field(1_000, ge=0)

    @field_validator(
        "CORS_ORIGINS",
        "TRUSTED_HOSTS",
        "ACCESS_LOG_EXCLUDE_PATHS",
        "METRICS_EXCLUDE_PATHS",
        mode="before",
    )
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("DATABASE_URL")
    @classmethod
    def _asyncpg_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("postgresql+asyncpg://"):
            raise ValueError("must start with postgresql+asyncpg://")
        return value

    @model_validator(mode="after")
    def _production_is_locked_down(self) -> "Settings":
        if self.ENVIRONMENT in ("staging", "production"):
            secret = self.JWT_SECRET.get_secret_value()
            if secret == DEFAULT_JWT_SECRET or len(secret) < MIN_JWT_SECRET_LENGTH:
                raise ValueError(
                    f"JWT_SECRET must be set to a random value of at least "
                    f"{MIN_JWT_SECRET_LENGTH} characters when ENVIRONMENT={self.ENVIRONMENT}"
                )
            if self.DEBUG:
                raise ValueError(f"DEBUG=true is refused when ENVIRONMENT={self.ENVIRONMENT}")
        return self


def describe_errors(error: ValidationError) -> str:
    """One line per bad variable, naming it, without echoing secret values."""
    lines = []
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "settings"
        lines.append(f"invalid setting {name}: {item['msg']}")
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    """The process's settings; invalid ones stop the process with a message naming them."""
    try:
        return Settings()
    except ValidationError as error:
        sys.exit(describe_errors(error))
