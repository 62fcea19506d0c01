"""Tests of the project's cluster (make cluster-up). Those marked `cluster` are deselected,
not skipped, when no cluster answers, so `make test` neither waits for one nor counts
tests it did not run."""

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.kube import run_kubectl

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = ROOT / "cluster"
VERSIONS = dict(
    line.split("=", 1)
    for line in (CLUSTER / "versions.env").read_text().splitlines()
    if line and not line.startswith("#")
)
KUBECTL = (
    Path.home()
    / ".cache/items-api/cluster"
    / f"kubernetes@{VERSIONS['KUBERNETES_VERSION']}/kubectl"
)
KUBECONFIG = ROOT / ".local/cluster/admin.kubeconfig"


def kubectl(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 60) -> str:
    """Runs kubectl against the project's cluster and returns its output."""
    return run_kubectl(KUBECTL, KUBECONFIG, *args, stdin=stdin, check=check, timeout=timeout)


def kubectl_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json"))


def cluster_is_up() -> bool:
    if not (KUBECTL.exists() and KUBECONFIG.exists()):
        return False
    try:
        kubectl("get", "--raw", "/readyz", "--request-timeout=3s", timeout=10)
    except (AssertionError, subprocess.TimeoutExpired):
        return False
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    needs_cluster = [item for item in items if item.get_closest_marker("cluster")]
    if needs_cluster and not cluster_is_up():
        config.hook.pytest_deselected(items=needs_cluster)
        items[:] = [item for item in items if not item.get_closest_marker("cluster")]


@pytest.fixture(scope="module")
def namespace() -> Iterator[str]:
    """A namespace of this module's own, deleted afterwards with everything in it."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    kubectl("create", "namespace", name)
    yield name
    kubectl("delete", "namespace", name, "--wait=false")
