"""The Locust scenario against the real service: checked requests, reports, the SLO gate."""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.wait import eventually
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

REPO = Path(__file__).resolve().parents[2]
LOCUST = [str(REPO / ".venv" / "bin" / "locust"), "-f", str(REPO / "loadtest" / "locustfile.py")]
# error_rate 0: the gate itself then proves that no request failed.
NO_FAILURES_SLO = "error_rate: 0\np95_ms: 60000\np99_ms: 60000\n"

pytestmark = pytest.mark.slow


def env() -> dict[str, str]:
    return {**os.environ, "ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": ADMIN_PASSWORD}


def run_locust(url: str, slo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LOCUST, "--headless", "--host", url, "-u", "6", "-r", "6", "-t", "5s",
         "--slo-file", str(slo), *args],
        env=env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_make_loadtest_runs_the_mix_without_failures_and_writes_reports(running_service, tmp_path):
    slo = tmp_path / "slo.yaml"
    slo.write_text(NO_FAILURES_SLO)
    reports = tmp_path / "reports"
    result = subprocess.run(
        ["make", "-s", "loadtest", f"HOST={running_service.url}", "USERS=6", "SPAWN_RATE=6",
         "DURATION=6s", f"SLO_FILE={slo}", f"LOADTEST_REPORTS={reports}"],
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SLO error_rate" in result.stdout

    (run,) = reports.iterdir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary, "the JSON summary lists no requests"
    for entry in summary:
        assert {"name", "method", "num_requests", "num_failures", "response_times"} <= entry.keys()
        assert entry["num_failures"] == 0, entry
    names = {entry["name"] for entry in summary}
    assert "/api/v1/items/{id}" in names

    with (run / "stats_stats.csv").open() as stats:
        rows = list(csv.DictReader(stats))
    assert {"Name", "Request Count", "Failure Count", "95%", "99%"} <= rows[0].keys()
    assert rows[-1]["Name"] == "Aggregated"
    assert int(rows[-1]["Request Count"]) > 0
    assert "<html" in (run / "report.html").read_text()[:1000].lower()


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("ping", {"/api/v1/ping"}),
        ("db-write", {"/api/v1/items [create]"}),
    ],
)
def test_a_tag_runs_only_that_workload_shape(running_service, tmp_path, tag, expected):
    slo = tmp_path / "slo.yaml"
    slo.write_text(NO_FAILURES_SLO)
    result = run_locust(
        running_service.url, slo, "--tags", tag, "--json-file", str(tmp_path / "summary")
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert {entry["name"] for entry in summary} == expected


def test_the_slo_gate_fails_the_run_when_a_threshold_is_impossible(running_service, tmp_path):
    slo = tmp_path / "slo.yaml"
    slo.write_text("error_rate: 0.5\np95_ms: 0.001\n")
    result = run_locust(running_service.url, slo, "--tags", "ping")
    assert result.returncode == 3, result.stdout + result.stderr[-3000:]
    assert "SLO p95_ms" in result.stdout
    assert "BROKEN" in result.stdout


def test_a_wrong_password_stops_the_run_before_any_load(running_service, tmp_path):
    slo = tmp_path / "slo.yaml"
    slo.write_text(NO_FAILURES_SLO)
    result = subprocess.run(
        [*LOCUST, "--headless", "--host", running_service.url, "-u", "2", "-r", "2", "-t", "5s",
         "--slo-file", str(slo)],
        env={**env(), "ADMIN_PASSWORD": "not-the-password"}, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "seeding the catalogue" in result.stderr
    assert "Aggregated" not in result.stdout


def test_requests_per_pod_count_every_route(running_service):
    """The per-pod lines of `make loadtest-k8s` read the service's own /metrics: requests to
    templated routes (a {item_id} in the label) count like any other."""
    address = f"127.0.0.1:{running_service.metrics_port}"

    def served() -> float:
        # In a child process: importing the locustfile monkey-patches for gevent.
        script = (
            "import sys; from loadtest.locustfile import pod_request_counts;"
            "print(pod_request_counts(sys.argv[1])['127.0.0.1'])"
        )
        run = subprocess.run([sys.executable, "-c", script, address], cwd=REPO,
                             capture_output=True, text=True, check=True, timeout=60)  # fmt: skip
        return float(run.stdout)

    before = served()
    for path in ("/api/v1/items/424242", "/api/v1/items/424243", "/api/v1/ping"):
        httpx.get(running_service.url + path)
    # The counter moves just after the response is sent.
    eventually(lambda: served() - before >= 3, "the pod's counter to move")
    assert served() - before == 3
