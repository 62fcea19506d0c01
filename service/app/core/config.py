"""The one settings object. Every field is an environment variable of the same name."""

import re
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Literal

from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_JWT_SECRET = "development-only-secret-change-me"  # noqa: S105 - refused outside development
MIN_JWT_SECRET_LENGTH = 32
PROBE_PATHS = ("/livez", "/readyz")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
# A DNS name, an IPv4 or IPv6 address (no brackets, no port), or *.domain.
_TRUSTED_HOST = re.compile(
    r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*"
)

CommaList = Annotated[list[str], NoDecode]


def _package_version() -> str:
    try:
        return version("items-api")
    except PackageNotFoundError:
        return "0.0.0"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(case_sensitive=True, extra="ignore")

    ENVIRONMENT: Literal["development", "test", "staging", "production"] = Field(
        "development", description="staging and production refuse a default JWT_SECRET and DEBUG"
    )
    DEBUG: bool = Field(False, description="FastAPI debug mode; refused in staging/production")
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="level of the JSON log lines on stderr"
    )
    APP_VERSION: str = Field(
        default_factory=_package_version, description="reported by /version; set at image build"
    )
    GIT_SHA: str = Field("unknown", description="reported by /version; set at image build")

    DATABASE_URL: SecretStr = Field(
        SecretStr("postgresql+asyncpg://items@127.0.0.1:5432/items"),
        description="secret; postgresql+asyncpg:// URL (make up sets its local one)",
    )
    DB_POOL_SIZE: int = Field(5, ge=1, le=100, description="connections each worker keeps open")
    # An overflow connection is closed as soon as it is returned to a full pool: under steady
    # load that opens and closes PostgreSQL sessions again and again (`make bench`, sessions).
    DB_MAX_OVERFLOW: int = Field(
        0, ge=0, le=100, description="extra connections per worker under bursts"
    )
    DB_POOL_TIMEOUT_S: float = Field(
        5.0, gt=0, le=120, description="wait for a free connection, then answer 503"
    )
    DB_CONNECT_TIMEOUT_S: float = Field(3.0, gt=0, le=60, description="TCP+auth connect timeout")
    DB_STATEMENT_TIMEOUT_MS: int = Field(
        5000, ge=0, le=600_000, description="server-side statement_timeout; 0 turns it off"
    )
    # Off behind PgBouncer in transaction mode, where a prepared statement may land on another
    # server connection.
    DB_PREPARED_STATEMENT_CACHE: bool = Field(
        True, description="asyncpg prepared-statement cache; false behind PgBouncer"
    )
    READINESS_DB_TIMEOUT_S: float = Field(
        1.0, gt=0, le=30, description="/readyz fails when the database takes longer"
    )

    JWT_SECRET: SecretStr = Field(
        SecretStr(DEFAULT_JWT_SECRET),
        description="secret; HS256 signing key, >= 32 chars outside development",
    )
    ACCESS_TOKEN_EXPIRE_MINUTES: int = Field(15, ge=1, le=1440, description="token lifetime")

    IDEMPOTENCY_RETENTION_S: int = Field(
        86_400,
        ge=60,
        le=30 * 86_400,
        description="Idempotency-Key replays are kept this long; then "
        "`items-api purge-idempotency-keys` deletes them",
    )

    CORS_ORIGINS: CommaList = Field([], description="comma-separated origins; empty: no CORS")
    TRUSTED_HOSTS: CommaList = Field(
        list(LOCAL_HOSTS),
        description="comma-separated Host names (or *.domain) served; others get a 400 "
        "(probe paths exempt)",
    )
    FORWARDED_ALLOW_IPS: str = Field(
        "127.0.0.1", description="proxies (IPs/CIDRs) whose X-Forwarded-* headers are trusted"
    )
    ACCESS_LOG_EXCLUDE_PATHS: CommaList = Field(
        list(PROBE_PATHS), description="paths left out of the access log"
    )
    METRICS_EXCLUDE_PATHS: CommaList = Field(
        list(PROBE_PATHS), description="paths left out of the request metrics"
    )
    GZIP_MIN_BYTES: int = Field(1000, ge=0, description="responses at least this large are gzipped")

    HOST: str = Field("127.0.0.1", description="bind address (the image sets 0.0.0.0)")
    PORT: int = Field(8000, ge=1, le=65535, description="bind port")
    METRICS_PORT: int = Field(
        9000, ge=1, le=65535, description="second bind port: /metrics (only here) and the probes"
    )
    WEB_CONCURRENCY: int | None = Field(
        None, ge=1, le=256, description="worker count, overriding the formula"
    )
    WORKERS_PER_CPU: float = Field(
        1.0, gt=0, le=8, description="workers per CPU of the quota (see Worker count)"
    )
    MAX_WORKERS: int = Field(8, ge=1, le=256, description="upper bound of the formula")
    WORKER_MEMORY_MB: int = Field(
        120, ge=16, le=8192, description="budget per worker when fitting under a memory limit"
    )
    GRACEFUL_TIMEOUT_S: int = Field(
        20, ge=1, le=600, description="in-flight requests get this long after SIGTERM"
    )
    KEEPALIVE_S: int = Field(
        75,
        ge=1,
        le=3600,
        description="idle keep-alive; keep above every proxy's upstream idle timeout",
    )
    MAX_REQUESTS: int = Field(10_000, ge=0, description="recycle a worker after this many requests")
    MAX_REQUESTS_JITTER: int = Field(
        1_000, ge=0, description="random spread so workers do not recycle together"
    )

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

    @field_validator("TRUSTED_HOSTS")
    @classmethod
    def _host_names(cls, hosts: list[str]) -> list[str]:
        if not hosts:
            raise ValueError("must list at least one host name")
        for host in hosts:
            if host == "*":
                raise ValueError(
                    "'*' would trust any Host, and redirects would send clients to it; "
                    "list the names (or *.domain)"
                )
            if not _TRUSTED_HOST.fullmatch(host):
                raise ValueError(f"{host!r} is not a host name, an IP address or *.domain")
        return hosts

    @field_validator("DATABASE_URL")
    @classmethod
    def _asyncpg_url(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("postgresql+asyncpg://"):
            raise ValueError("must start with postgresql+asyncpg://")
        return value

    @field_validator("METRICS_PORT")
    @classmethod
    def _metrics_listener_is_its_own(cls, value: int, info: ValidationInfo) -> int:
        if value == info.data.get("PORT"):
            raise ValueError("must differ from PORT: /metrics is served only on its own listener")
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


def settings_table() -> str:
    """The README's configuration table, generated from the fields above."""
    rows = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None:
            default = "(package version)"
        else:
            default = field.default
            if isinstance(default, SecretStr):
                default = default.get_secret_value()
            if isinstance(default, list):
                default = ",".join(default)
        shown = f"`{default}`" if default not in (None, "") else "unset"
        rows.append(f"| `{name}` | {shown} | {field.description} |")
    return "\n".join(rows)


@lru_cache
def get_settings() -> Settings:
    """The process's settings; invalid ones stop the process with a message naming them."""
    try:
        return Settings()
    except ValidationError as error:
        sys.exit(describe_errors(error))
