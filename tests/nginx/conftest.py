"""Real nginx, rendered from nginx/templates, in front of the real service on free ports."""

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.net import free_port, wait_for_http
from harness.postgres import PostgresServer
from harness.service import ServiceProcess
from harness.wait import eventually
from nginx import render
from tests.conftest import service_on_own_database

# Short, so the idle keep-alive test waits seconds rather than minutes; nginx's upstream
# idle timeout stays below it as in production (60 s < 75 s).
SERVICE_KEEPALIVE_S = 2
UPSTREAM_KEEPALIVE_TIMEOUT = "1s"


def nginx_binary() -> str:
    # Debian puts nginx in /usr/sbin, which a non-root PATH often lacks.
    found = shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")
    if found is None:
        pytest.fail("nginx is not installed: run `make nginx-installed`")
    return found


def assert_nginx_accepts(conf: Path) -> None:
    """`nginx -t`: the config parses and every file and directory it names is usable."""
    result = subprocess.run(
        [nginx_binary(), "-t", "-e", "stderr", "-c", str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


class NginxProcess:
    """One nginx master in the foreground, its files in a directory of its own."""

    def __init__(self, base: Path, profile: str = "local", **overrides: str) -> None:
        self.http_port, self.https_port, self.status_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.https_url = f"https://127.0.0.1:{self.https_port}"
        self.status_url = f"http://127.0.0.1:{self.status_port}"
        self.access_log = base / "logs" / "access.log"
        self.error_log = base / "logs" / "error.log"
        values = render.values_for(
            profile,
            {
                "HTTP_PORT": str(self.http_port),
                "HTTPS_PORT": str(self.https_port),
                "STATUS_LISTEN": f"127.0.0.1:{self.status_port}",
                "RUN_DIR": str(base / "run"),
                "ACCESS_LOG": str(self.access_log),
                "ERROR_LOG": str(self.error_log),
                "TLS_CERT": str(base.parent / "tls.crt"),  # made by the nginx_dir fixture
                "TLS_KEY": str(base.parent / "tls.key"),
                **overrides,
            },
        )
        self.values = values
        self.conf = render.write(base / "conf", values)
        self.process: subprocess.Popen | None = None

    def start(self) -> "NginxProcess":
        self.process = subprocess.Popen(
            [nginx_binary(), "-c", str(self.conf), "-e", str(self.error_log), "-g", "daemon off;"]
        )
        wait_for_http(f"{self.status_url}/healthz", timeout=10, process=self.process)
        return self

    def workers(self) -> set[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()}

    def reload(self, timeout: float = 30.0, **overrides: str) -> None:
        """Re-render with these placeholders changed, reload, and wait for the old workers
        to finish their requests and exit."""
        self.values = {**self.values, **overrides}
        render.write(self.conf.parent, self.values)
        old = self.workers()
        self.process.send_signal(signal.SIGHUP)
        eventually(
            lambda: not self.workers() & old,
            "the old nginx workers exiting",
            timeout=timeout,
            every=0.05,
        )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def new_dir(parent: Path) -> Path:
    path = Path(tempfile.mkdtemp(dir=parent))
    os.chmod(path, 0o755)
    return path


@pytest.fixture(scope="session")
def nginx_dir() -> Iterator[Path]:
    """Files for every nginx of the session, with one throwaway self-signed certificate.

    World-traversable: nginx started as root runs its workers as nobody.
    """
    with tempfile.TemporaryDirectory(prefix="items-api-nginx-") as base:
        os.chmod(base, 0o755)
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", f"{base}/tls.key", "-out", f"{base}/tls.crt"],
            check=True, capture_output=True,
        )  # fmt: skip
        yield Path(base)


@pytest.fixture
def start_nginx(nginx_dir: Path) -> Iterator:
    """Start an nginx with the given profile and placeholder overrides; stopped after the test."""
    started: list[NginxProcess] = []

    def start(profile: str = "local", **overrides: str) -> NginxProcess:
        started.append(NginxProcess(new_dir(nginx_dir), profile, **overrides).start())
        return started[-1]

    yield start
    for proxy in started:
        proxy.stop()


@pytest.fixture(scope="module")
def service(postgres: PostgresServer) -> Iterator[ServiceProcess]:
    """The real service under gunicorn, shared by a module's tests (they only read)."""
    with service_on_own_database(
        postgres, "nginx", KEEPALIVE_S=str(SERVICE_KEEPALIVE_S)
    ) as service:
        yield service


def _proxy(nginx_dir: Path, service: ServiceProcess, profile: str) -> Iterator[NginxProcess]:
    proxy = NginxProcess(
        new_dir(nginx_dir),
        profile,
        UPSTREAM=f"127.0.0.1:{service.port}",
        UPSTREAM_KEEPALIVE_TIMEOUT=UPSTREAM_KEEPALIVE_TIMEOUT,
    ).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="module")
def proxy(nginx_dir: Path, service: ServiceProcess) -> Iterator[NginxProcess]:
    """Plain HTTP nginx (the `make up` rendering) in front of the module's service."""
    yield from _proxy(nginx_dir, service, "local")


@pytest.fixture(scope="module")
def tls_proxy(nginx_dir: Path, service: ServiceProcess) -> Iterator[NginxProcess]:
    """nginx terminating TLS with the throwaway certificate, in front of the same service."""
    yield from _proxy(nginx_dir, service, "tls")
