"""Fixtures for the deploy tool: kubeconfigs pointing at real sockets, and the project
cluster's kubeconfig for the tests that need a real API server."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# Where `make cluster-up` writes the project cluster's admin kubeconfig (mk/cluster.mk);
# DEPLOY_TEST_KUBECONFIG points the cluster tests at another disposable cluster instead.
PROJECT_KUBECONFIG = Path(
    os.environ.get("DEPLOY_TEST_KUBECONFIG") or ROOT / ".local" / "cluster" / "admin.kubeconfig"
)


def write_kubeconfig(path: Path, server: str, contexts=("test",), current="test") -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
                "contexts": [
                    {"name": n, "context": {"cluster": "c", "user": "u"}} for n in contexts
                ],
                **({"current-context": current} if current else {}),
            }
        )
    )
    return path


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_deployctl(
    *args: str, home: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The CLI as an operator runs it, in a clean environment whose HOME has no kubeconfig."""
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "deployctl", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


@pytest.fixture
def project_kubeconfig() -> Path:
    if not PROJECT_KUBECONFIG.is_file():
        pytest.skip(f"no project cluster: {PROJECT_KUBECONFIG} is missing (run make cluster-up)")
    return PROJECT_KUBECONFIG
