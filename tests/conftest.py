"""Shared fixtures: a real PostgreSQL for the session, a fresh database for each test."""

import itertools
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from harness.postgres import PostgresServer
from harness.service import TEST_JWT_SECRET, ServiceProcess

TEMPLATE_DB = "items_template"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct-horse-battery"
_database_numbers = itertools.count()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One throwaway server for the test session, with a migrated template database."""
    from app.core.migrations import upgrade

    # A server stopped in "immediate" mode may still be unlinking WAL as the folder goes.
    with tempfile.TemporaryDirectory(prefix="items-api-pg-", ignore_cleanup_errors=True) as base:
        os.chmod(base, 0o755)
        server = PostgresServer(Path(base))
        server.init()
        server.start()
        try:
            upgrade(server.create_database(TEMPLATE_DB))
            # Nobody (autovacuum included) may hold a session on the template while tests copy it.
            server.psql(f"ALTER DATABASE {TEMPLATE_DB} WITH ALLOW_CONNECTIONS false")
            yield server
        finally:
            if server.is_running():
                server.stop("immediate")


@pytest.fixture
def database_url(postgres: PostgresServer) -> str:
    """A database of this test's own, copied from the migrated template."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    return postgres.create_database(name, TEMPLATE_DB)


# The Host header of FastAPI's TestClient.
TEST_CLIENT_HOST = "testserver"


def make_settings(database_url: str, **overrides):
    from app.core.config import LOCAL_HOSTS, Settings

    overrides.setdefault("TRUSTED_HOSTS", [TEST_CLIENT_HOST, *LOCAL_HOSTS])
    return Settings(
        ENVIRONMENT="test",
        DATABASE_URL=database_url,
        JWT_SECRET=TEST_JWT_SECRET,
        **overrides,
    )


def create_admin(database_url: str) -> None:
    import asyncio

    from app import crud
    from app.core.db import create_engine, create_sessionmaker

    async def run() -> None:
        engine = create_engine(make_settings(database_url))
        async with create_sessionmaker(engine).begin() as session:
            await crud.upsert_admin(session, ADMIN_EMAIL, ADMIN_PASSWORD)
        await engine.dispose()

    asyncio.run(run())


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The app in-process against this test's database, with an admin user."""
    from app.main import create_app

    create_admin(database_url)
    with TestClient(create_app(make_settings(database_url))) as test_client:
        yield test_client


def get_token(client, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> str:
    response = client.post("/api/v1/auth/token", data={"username": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def auth_headers(client: TestClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {get_token(client)}"}


@pytest.fixture
def running_service(database_url: str) -> Iterator[ServiceProcess]:
    """The real service under gunicorn with 2 workers on a free port, with an admin user."""
    create_admin(database_url)
    service = ServiceProcess(database_url).start()
    try:
        yield service
    finally:
        service.close()


@contextmanager
def service_on_own_database(postgres: PostgresServer, prefix: str, **env: str):
    """A real service with an admin user, on a database of its own: for module-scoped
    fixtures whose tests share one service."""
    name = f"{prefix}_{os.getpid()}_{next(_database_numbers)}"
    database_url = postgres.create_database(name, TEMPLATE_DB)
    create_admin(database_url)
    service = ServiceProcess(database_url, **env).start()
    try:
        yield service
    finally:
        service.close()
