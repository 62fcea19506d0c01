"""The built image, run as a real container by whichever engine this machine has.

`make test` builds the image first (TEST_DEPS); ITEMS_API_IMAGE picks another one.
Where no engine can run a container the tests skip, saying why; with CI=true they fail.
"""

import itertools
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.net import free_port
from tests.support.service import TEST_JWT_SECRET

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("ITEMS_API_IMAGE", "localhost/items-api:dev")
# What a Kubernetes pod with the chart's securityContext gets: no root filesystem writes,
# no capabilities, no privilege escalation, a memory-backed /tmp.
HARDENED = (
    "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
)  # fmt: skip
os.environ.setdefault("CONTAINERS_CONF", str(REPO / "container" / "containers.conf"))

# A ceiling, not an expectation: on a 2-core machine shared with other builds, start to
# ready has taken 15 s.
WAIT_CEILING_S = 90.0
_names = itertools.count()
# Figures the session measured, printed after the test summary.
FIGURES: dict[str, str] = {}


@dataclass(frozen=True)
class Engine:
    command: str

    def __call__(self, *args: str, check: bool = True, timeout: float = 120):
        result = subprocess.run(
            [self.command, *args], capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.command} {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result


@dataclass
class Container:
    engine: Engine
    name: str
    url: str
    started_at: float = field(default_factory=time.monotonic)

    def state(self, key: str) -> str:
        return self.engine("inspect", "--format", f"{{{{.State.{key}}}}}", self.name).stdout.strip()

    def running(self) -> bool:
        return self.state("Running") == "true"

    def logs(self) -> str:
        result = self.engine("logs", self.name, check=False)
        return result.stdout + result.stderr

    def log_records(self) -> list[dict]:
        records = []
        for line in self.logs().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records

    def wait_until_ready(self, timeout: float = WAIT_CEILING_S) -> float:
        """Seconds from `run` to /readyz 200; fails early if the container exits."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{self.url}/readyz", timeout=2)
                if response.status_code == 200:
                    return time.monotonic() - self.started_at
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as error:
                last = repr(error)
                if not self.running():
                    raise AssertionError(f"container exited before ready:\n{self.logs()}") from None
            time.sleep(0.05)
        raise AssertionError(f"not ready within {timeout}s (last: {last}):\n{self.logs()}")

    def wait_until_exited(self, timeout: float = WAIT_CEILING_S) -> int:
        deadline = time.monotonic() + timeout
        while self.running():
            if time.monotonic() > deadline:
                raise AssertionError(f"still running after {timeout}s:\n{self.logs()}")
            time.sleep(0.1)
        return int(self.state("ExitCode"))

    def worker_pids(self) -> list[int]:
        # The entrypoint execs gunicorn, so PID 1 is the master and its children the workers.
        result = self.engine("exec", self.name, "cat", "/proc/1/task/1/children")
        return [int(pid) for pid in result.stdout.split()]


@pytest.fixture(scope="session")
def engine() -> Engine:
    found = subprocess.run([REPO / "container" / "engine"], capture_output=True, text=True)
    if found.returncode != 0:
        reason = found.stderr.strip()
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true needs the container tests to run: {reason}")
        pytest.skip(reason)
    return Engine(found.stdout.strip())


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
        port = free_port()
        environment = {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "ENVIRONMENT": "test",
            "JWT_SECRET": TEST_JWT_SECRET,
            **(env or {}),
        }
        flags = [f"--env={key}={value}" for key, value in environment.items()]
        container = Container(engine, name, f"http://127.0.0.1:{port}")
        names.append(name)
        engine(
            "run", "--detach", "--name", name, "--network", "host", *options, *flags, image, *args
        )
        return container

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
