"""`items-api`: the operational commands, run the same way locally, in the image and in the
chart's migration Job."""

import asyncio
import json
import sys
import time

import click

from app.core.config import get_settings
from app.core.workers import WorkerPlanError, plan_from_settings

EXIT_DATABASE_UNREACHABLE = 3
EXIT_BAD_WORKER_PLAN = 4


def _database_url() -> str:
    return get_settings().DATABASE_URL.get_secret_value()


async def _database_answers(timeout_s: float) -> None:
    from app.core.db import create_probe_engine, migration_revision

    engine = create_probe_engine(get_settings())
    try:
        await migration_revision(engine, timeout_s)
    finally:
        await engine.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Operate the items-api service."""


@main.command()
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to keep trying.")
def wait_for_db(timeout: float) -> None:
    """Wait until the database answers."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            asyncio.run(_database_answers(2.0))
            click.echo("database is answering")
            return
        except Exception as error:
            if time.monotonic() > deadline:
                click.echo(f"database did not answer within {timeout:g}s: {error}", err=True)
                sys.exit(EXIT_DATABASE_UNREACHABLE)
            time.sleep(0.5)


@main.command()
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the database.")
@click.pass_context
def migrate(ctx: click.Context, wait: float) -> None:
    """Upgrade the database to the newest migration (safe to run concurrently)."""
    from app.core.migrations import upgrade

    ctx.invoke(wait_for_db, timeout=wait)
    upgrade(_database_url())
    click.echo("database is at the newest migration")


@main.command()
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the database to REVISION (e.g. base, or -1)."""
    from app.core.migrations import downgrade as alembic_downgrade

    alembic_downgrade(_database_url(), revision)
    click.echo(f"database downgraded to {revision}")


@main.command()
@click.option("--email", envvar="ADMIN_EMAIL", required=True, help="Env: ADMIN_EMAIL.")
@click.option(
    "--password",
    envvar="ADMIN_PASSWORD",
    required=True,
    help="Env: ADMIN_PASSWORD (preferred: keeps it out of the process list).",
)
def create_admin(email: str, password: str) -> None:
    """Create the first admin user, or reset its password."""
    if len(password) < 12:
        raise click.BadParameter("must be at least 12 characters", param_hint="--password")

    async def run() -> bool:
        from app import crud
        from app.core.db import create_engine, create_sessionmaker

        engine = create_engine(get_settings())
        try:
            async with create_sessionmaker(engine).begin() as session:
                return await crud.upsert_admin(session, email, password)
        finally:
            await engine.dispose()

    created = asyncio.run(run())
    click.echo(f"admin {email} {'created' if created else 'updated'}")


@main.command()
def purge_idempotency_keys() -> None:
    """Delete idempotency keys older than IDEMPOTENCY_RETENTION_S."""
    settings = get_settings()

    async def run() -> int:
        from app.core.db import create_engine, create_sessionmaker
        from app.idempotency import purge_expired

        engine = create_engine(settings)
        try:
            async with create_sessionmaker(engine)() as session:
                return await purge_expired(session, settings.IDEMPOTENCY_RETENTION_S)
        finally:
            await engine.dispose()

    purged = asyncio.run(run())
    click.echo(f"purged {purged} idempotency keys older than {settings.IDEMPOTENCY_RETENTION_S}s")


@main.command()
def check_config() -> None:
    """Validate the settings and print them, secrets masked."""
    click.echo(get_settings().model_dump_json(indent=2))


@main.command()
def settings_table() -> None:
    """Print the configuration table for the README (markdown)."""
    from app.core.config import settings_table as table

    click.echo(table())


@main.command()
def workers() -> None:
    """Print the worker count the formula gives here, and why (JSON)."""
    try:
        plan = plan_from_settings(get_settings())
    except WorkerPlanError as error:
        click.echo(str(error), err=True)
        sys.exit(EXIT_BAD_WORKER_PLAN)
    click.echo(json.dumps(plan.as_dict()))
