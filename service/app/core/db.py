"""The async engine, its instrumented pool, the driver connection the hot paths use, and the
readiness check."""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool

from app.core.config import Settings
from app.core.metrics import (
    DB_POOL_CHECKED_OUT,
    DB_POOL_OVERFLOW,
    DB_POOL_TIMEOUTS,
    DB_POOL_WAITING,
)


class InstrumentedPool(AsyncAdaptedQueuePool):
    """Publishes checked-out, overflow, waiting and timeout figures as the pool changes."""

    def _publish(self) -> None:
        DB_POOL_CHECKED_OUT.set(self.checkedout())
        DB_POOL_OVERFLOW.set(max(self.overflow(), 0))

    def _do_get(self):
        DB_POOL_WAITING.inc()
        try:
            return super()._do_get()
        except sa_exc.TimeoutError:
            DB_POOL_TIMEOUTS.inc()
            raise
        finally:
            DB_POOL_WAITING.dec()
            self._publish()

    def _do_return_conn(self, record) -> None:
        super()._do_return_conn(record)
        self._publish()

    def lost(self, connection) -> None:
        """A connection found closed: every connection opened before it is replaced at its
        next checkout, as the same server restart or network cut has most likely closed it
        too (what SQLAlchemy does when its own execute meets a disconnect)."""
        self._invalidate(connection, _checkin=False)


def _connect_args(settings: Settings) -> dict:
    args: dict = {
        "timeout": settings.DB_CONNECT_TIMEOUT_S,
        "server_settings": {
            "application_name": "items-api",
            "statement_timeout": str(settings.DB_STATEMENT_TIMEOUT_MS),
            # Every statement planned for its values, as tests/service/test_list_plans.py
            # checks the list's plans: a generic plan estimates a filter without its value.
            # Planning a primary-key read costs the server a few microseconds.
            "plan_cache_mode": "force_custom_plan",
        },
    }
    if not settings.DB_PREPARED_STATEMENT_CACHE:
        args["statement_cache_size"] = 0
        args["prepared_statement_cache_size"] = 0
    return args


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        settings.DATABASE_URL.get_secret_value(),
        poolclass=InstrumentedPool,
        pool_size=settings.DB_POOL_SIZE,
        max_overflow=settings.DB_MAX_OVERFLOW,
        pool_timeout=settings.DB_POOL_TIMEOUT_S,
        # No pre-ping: with a transaction around it, it cost three round trips per checkout.
        # A connection that died in the pool fails its first statement instead; Database
        # invalidates the pool then and retries reads once.
        pool_pre_ping=False,
        connect_args=_connect_args(settings),
    )


T = TypeVar("T")


class Database:
    """Statements on the asyncpg connection under SQLAlchemy's pool.

    Executing through SQLAlchemy cost about half a millisecond of CPU per statement on top of
    the driver (greenlet bridge, cursor adaptation, result processing); the hot paths are
    single parameterized statements that gain nothing from it, so they run on the driver
    connection the pool checked out. The pool (size, timeout, metrics) stays SQLAlchemy's.

    A statement here outside `connection.transaction()` commits on its own: no BEGIN, no
    COMMIT, and no reset ROLLBACK on return (SQLAlchemy's adapter only rolls back what it
    began), so a single-statement read or write is one round trip.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.session = create_sessionmaker(engine)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.engine.connect() as connection:
            pooled = await connection.get_raw_connection()
            driver: asyncpg.Connection = pooled.driver_connection
            try:
                yield driver
            except BaseException:
                if driver.is_closed():
                    self.engine.pool.lost(pooled)
                    await connection.invalidate()
                raise

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """A write: `work` runs once; a lost connection is the caller's 503."""
        async with self.connection() as connection:
            return await work(connection)

    async def read(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """A read: retried once on a fresh connection when the pooled one had died (after a
        database restart every pooled connection has)."""
        connection = None
        try:
            async with self.connection() as connection:
                return await work(connection)
        except Exception:
            if connection is None or not connection.is_closed():
                raise
        async with self.connection() as connection:
            return await work(connection)


def create_probe_engine(settings: Settings) -> AsyncEngine:
    # Readiness asks "does the database answer", not "is the pool free": a saturated pool must
    # not take a healthy pod out of the Service.
    return create_async_engine(
        settings.DATABASE_URL.get_secret_value(),
        poolclass=NullPool,
        connect_args=_connect_args(settings),
    )


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


async def migration_revision(engine: AsyncEngine, timeout_s: float) -> str | None:
    """The revision the database is at; raises when it does not answer within timeout_s."""

    async def query() -> str | None:
        async with engine.connect() as connection:
            exists = await connection.scalar(text("SELECT to_regclass('alembic_version')"))
            if exists is None:
                return None
            return await connection.scalar(text("SELECT version_num FROM alembic_version"))

    return await asyncio.wait_for(query(), timeout_s)
