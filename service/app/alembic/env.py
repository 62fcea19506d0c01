import asyncio

from alembic import context
from app.core.config import get_settings
from app.core.migrations import MIGRATION_LOCK_ID
from app.models import Base
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

config = context.config


def run_migrations(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata)
    with context.begin_transaction():
        # Held until this transaction commits; alembic reads the current revision after it.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        context.run_migrations()


async def run_online() -> None:
    url = config.attributes.get("database_url") or get_settings().DATABASE_URL.get_secret_value()
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_migrations)
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `items-api migrate`")
asyncio.run(run_online())
