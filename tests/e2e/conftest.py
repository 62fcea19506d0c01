"""`make e2e` only (it sets E2E=1 after starting the cluster and loading the images): in any
other run these tests are deselected, not skipped, so `make test` neither needs a cluster
nor counts what it did not run."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .cluster import KUBECONFIG, NAMESPACE, ROOT, kubectl, wait_for
from .prometheus import AlertTimeline, Prometheus, deploy
from .report import Report

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mine = [item for item in items if HERE in item.path.parents]
    for item in mine:
        item.add_marker(pytest.mark.e2e)
    if os.environ.get("E2E") != "1":
        config.hook.pytest_deselected(items=mine)
        items[:] = [item for item in items if item not in mine]
        return
    # `make e2e` runs against any cluster KUBECONFIG names; what reaches into the node's
    # containerd (killing a container's processes, the OOM demo's pods) needs the lab's own.
    if KUBECONFIG.resolve() != (ROOT / ".local/cluster/admin.kubeconfig").resolve():
        skip = pytest.mark.skip(
            reason=f"lab only: needs the project's own cluster (make cluster-up), not {KUBECONFIG}"
        )
        for item in mine:
            if item.get_closest_marker("lab"):
                item.add_marker(skip)


@pytest.fixture(scope="session")
def report() -> Iterator[Report]:
    report = Report()
    yield report
    for path in report.write():
        print(f"e2e report: {path}")


@pytest.fixture(scope="session", autouse=True)
def fresh_namespace() -> None:
    """A first `make deploy` is an install: a release left by an earlier run is removed."""
    if kubectl("get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name").strip():
        kubectl("delete", "namespace", NAMESPACE, "--wait=false")
        wait_for(
            f"namespace {NAMESPACE} to be deleted",
            lambda: not kubectl("get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name"),
            timeout=180,
        )


@pytest.fixture(scope="session")
def prometheus(report: Report) -> Prometheus:
    prometheus = deploy(os.environ.get("E2E_PROMETHEUS_IMAGE", "localhost/items-api-prometheus"))
    # The report draws its plots from it once every scenario has run.
    report.prometheus = prometheus
    return prometheus


@pytest.fixture(scope="session")
def alert_timeline(prometheus: Prometheus) -> Iterator[AlertTimeline]:
    timeline = AlertTimeline(prometheus).start()
    yield timeline
    timeline.stop()
