"""The async engine, its instrumented pool, the driver connection the hot paths use, and the
readiness check."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from sqlalchemy import Connection, Engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import AsyncAdaptedQueuePool, NullPool, PoolProxiedConnection
from sqlalchemy.util import await_only, greenlet_spawn

from app.core.config import Settings
from app.core.metrics import (
    DB_POOL_CHECKED_OUT,
    DB_POOL_OVERFLOW,
    DB_POOL_TIMEOUTS,
    DB_POOL_WAITING,
)


class InstrumentedPool(AsyncAdaptedQueuePool):
    """Publishes checked-out, overflow, waiting and timeout figures as the pool changes.

    Each figure written is a locked write to a memory-mapped file (multiprocess metrics), so
    a checkout that finds an idle connection writes only the checked-out count: it waits for
    nothing, and leaves the overflow as it was."""

    _published: tuple[int, int] | None = None

    def _publish(self) -> None:
        checked_out, overflow = self.checkedout(), max(self.overflow(), 0)
        published = self._published
        if published is None or checked_out != published[0]:
            DB_POOL_CHECKED_OUT.set(checked_out)
        if published is None or overflow != published[1]:
            DB_POOL_OVERFLOW.set(overflow)
        self._published = (checked_out, overflow)

    def _do_get(self):
        if not self._pool.empty():
            record = super()._do_get()
            self._publish()
            return record
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
        too (what SQLAlchemy does when its own execute meets a disconnect). The connection is
        closed and returned; it needs the greenlet context (sqlalchemy.util.greenlet_spawn)."""
        self._invalidate(connection)


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


def _checkout(engine: Engine) -> PoolProxiedConnection:
    """A connection from the pool, or the error engine.connect() raises for the same failure
    (a refused or closed database is an OperationalError, which the service answers with 503):
    the translation is SQLAlchemy's own, which Connection applies when it checks one out."""
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:
        Connection._handle_dbapi_exception_noconnection(error, engine.dialect, engine)


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

    async def _on_connection(
        self, work: Callable[[asyncpg.Connection], Awaitable[T]], *, retry_lost: bool
    ) -> T:
        """`work` on a pooled connection's driver; with `retry_lost`, once more on a fresh
        connection when the pooled one had died.

        The pool's checkout and checkin are SQLAlchemy's own, and may await (opening a
        connection, waiting for a free one, closing one), which they can only do inside a
        greenlet: checkout, work and checkin share one. engine.connect() would spawn one for
        each of checkout and checkin and build two Connection objects around them, which cost
        a fifth of a read's CPU."""
        engine = self.engine.sync_engine

        def in_greenlet() -> T:
            retries = 1 if retry_lost else 0
            while True:
                pooled = _checkout(engine)
                driver: asyncpg.Connection = pooled.driver_connection
                try:
                    result = await_only(work(driver))
                except BaseException as error:
                    if not driver.is_closed():
                        pooled.close()
                        raise
                    engine.pool.lost(pooled)
                    if not retries or not isinstance(error, Exception):
                        raise
                    retries -= 1
                    continue
                pooled.close()
                return result

        return await greenlet_spawn(in_greenlet)

    async def run(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """A write: `work` runs once; a lost connection is the caller's 503."""
        return await self._on_connection(work, retry_lost=False)

    async def read(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """A read: retried once on a fresh connection when the pooled one had died (after a
        database restart every pooled connection has)."""
        return await self._on_connection(work, retry_lost=True)


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
