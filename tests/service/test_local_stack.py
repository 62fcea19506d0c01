"""`make up` and `make down` as a user runs them, in a clone of this repo on free ports."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from harness.net import free_port
from harness.service import REPO

pytestmark = pytest.mark.slow


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def clone() -> Path:
    # With its own virtualenv, as a user's clone has: sharing this checkout's would reinstall
    # the clone's package into it whenever the two differ (and the clone is deleted after).
    # PostgreSQL runs as the postgres user when we are root: the folder must be reachable.
    base = Path(tempfile.mkdtemp(prefix="items-api-stack-"))
    base.chmod(0o755)
    subprocess.run(["git", "clone", "-q", "--local", str(REPO), str(base / "repo")], check=True)
    yield base / "repo"
    shutil.rmtree(base, ignore_errors=True)


def test_make_up_serves_through_nginx_and_make_down_stops_everything(clone):
    app, metrics, pg, http, status = (free_port() for _ in range(5))
    nginx_set = f"HTTP_PORT={http} STATUS_LISTEN=127.0.0.1:{status} UPSTREAM=127.0.0.1:{app}"
    env = {**os.environ, "PORT": str(app), "METRICS_PORT": str(metrics), "PG_PORT": str(pg)}
    env.pop("DATABASE_URL", None)

    def make(*targets: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", *targets, f"NGINX_SET={nginx_set}"],
            cwd=clone, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    try:
        up = make("up")
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"http://127.0.0.1:{http}" in up.stdout or "items-api is up" in up.stdout
        again = make("up")
        assert again.returncode == 0, again.stderr
        assert "already running" in again.stdout

        email, password = (clone / ".local/admin-credentials").read_text().split()
        base = f"http://127.0.0.1:{http}/api/v1"
        token = httpx.post(f"{base}/auth/token", data={"username": email, "password": password})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        created = httpx.post(f"{base}/items", json={"name": "w", "price": "1.00"}, headers=headers)
        assert created.status_code == 201, created.text
        assert httpx.get(f"{base}/items/{created.json()['id']}").json()["name"] == "w"
        assert len(httpx.get(f"{base}/items").json()["items"]) == 1
        assert "http_requests_total" in httpx.get(f"http://127.0.0.1:{metrics}/metrics").text
        for public in (app, http):
            assert httpx.get(f"http://127.0.0.1:{public}/metrics").status_code == 404
    finally:
        down = make("down")
    assert down.returncode == 0, down.stderr
    assert not any(listening(port) for port in (app, metrics, pg, http, status))
    assert make("down").returncode == 0


def test_make_up_names_a_busy_port(clone):
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        env = {**os.environ, "PORT": str(free_port()), "PG_PORT": str(busy)}
        env.pop("DATABASE_URL", None)
        result = subprocess.run(
            ["make", "up"],
            cwd=clone, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"port {busy} (PostgreSQL) is taken" in result.stderr
    assert "Traceback" not in result.stderr
