"""The built image, run as a real container by whichever engine this machine has.

`make test` builds the image first (TEST_DEPS); ITEMS_API_IMAGE picks another one.
Where no engine can run a container the tests skip, saying why; with CI=true they fail.
"""

import itertools
import json
import os
import subprocess
from collections.abc import Callable, Iterator

import httpx
import pytest

from harness.container import (
    HARDENED,
    IMAGE,
    Container,
    Engine,
    NoEngine,
    find_engine,
    run_detached,
)
from harness.net import free_port
from harness.service import TEST_JWT_SECRET
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

_names = itertools.count()
# Figures the session measured, printed after the test summary.
FIGURES: dict[str, str] = {}


@pytest.fixture(scope="session")
def engine() -> Engine:
    try:
        return find_engine()
    except NoEngine as missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs the container tests to run: {missing}")
        pytest.skip(str(missing))


@pytest.fixture(scope="session")
def image(engine: Engine) -> str:
    if engine("image", "inspect", IMAGE, check=False).returncode != 0:
        pytest.fail(f"image {IMAGE} not found: build it with `make image`")
    return IMAGE


@pytest.fixture
def run_image(engine: Engine, image: str) -> Iterator[Callable[..., Container]]:
    """Start the image detached on the host network (PostgreSQL listens on loopback)."""
    names: list[str] = []

    def run(*options: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()):
        name = f"items-api-test-{os.getpid()}-{next(_names)}"
        names.append(name)
        environment = {"ENVIRONMENT": "test", "JWT_SECRET": TEST_JWT_SECRET, **(env or {})}
        return run_detached(engine, image, name, free_port(), *options, env=environment, args=args)

    yield run
    for name in names:
        engine("rm", "--force", name, check=False)


@pytest.fixture
def cli(engine: Engine, image: str) -> Callable[..., subprocess.CompletedProcess]:
    """`items-api ARGS` run from the image, as the chart's migration Job runs it."""

    def run(*args: str, database_url: str, env: dict | None = None, options: tuple = ()):
        environment = {"DATABASE_URL": database_url, "ENVIRONMENT": "test", **(env or {})}
        flags = [f"--env={key}={value}" for key, value in environment.items()]
        return engine(
            "run", "--rm", "--network", "host", *HARDENED, *options, *flags,
            "--entrypoint", "items-api", image, *args, check=False,
        )  # fmt: skip

    return run


def baked_env(engine: Engine, image: str) -> dict[str, str]:
    """The environment the image sets (ENV lines and build arguments baked into them)."""
    env = engine("image", "inspect", "--format", "{{json .Config.Env}}", image).stdout
    return dict(variable.split("=", 1) for variable in json.loads(env))


def admin_token(url: str) -> str:
    response = httpx.post(
        f"{url}/api/v1/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def pytest_terminal_summary(terminalreporter) -> None:
    if FIGURES:
        terminalreporter.section("image figures")
        for name, value in FIGURES.items():
            terminalreporter.write_line(f"{name}: {value}")
