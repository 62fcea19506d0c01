"""`make loadtest` draws the run's throughput, latency, errors and workers from Prometheus
into the report folder, from a throwaway server or an existing one; when neither can record
the run, it still runs, keeps its SLO verdict and says why there are no plots."""

import json
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from harness.net import free_port
from harness.prometheus import throwaway
from tests.conftest import service_on_own_database
from tests.loadtest.test_scenario import NO_FAILURES_SLO, REPO, env

PLOTS = ["throughput.png", "latency.png", "errors.png", "replicas.png"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service(postgres):
    with service_on_own_database(postgres, "plots") as service:
        yield service


def make_loadtest(url: str, tmp_path: Path, *variables: str) -> tuple[str, Path]:
    """A 5 s `make loadtest` at url that keeps its SLO; its output and report folder."""
    slo = tmp_path / "slo.yaml"
    slo.write_text(NO_FAILURES_SLO)
    reports = tmp_path / "reports"
    result = subprocess.run(
        ["make", "-s", "loadtest", f"HOST={url}", "USERS=6", "SPAWN_RATE=6", "DURATION=5s",
         f"SLO_FILE={slo}", f"LOADTEST_REPORTS={reports}", *variables],
        cwd=REPO, env=env(), capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "SLO error_rate" in result.stdout
    (run,) = reports.iterdir()
    return result.stdout, run


def assert_plotted(output: str, run: Path) -> dict:
    assert f"loadtest: plots: {' '.join(PLOTS)}" in output
    for name in PLOTS:
        with Image.open(run / name) as image:
            assert image.format == "PNG"
            assert image.width > 400
            assert image.height > 200
    report = (run / "report.md").read_text()
    images = [line for line in report.splitlines() if line.startswith("![")]
    assert images == [f"![{name.removesuffix('.png')}]({name})" for name in PLOTS]
    assert "| Aggregated |" in report
    points = json.loads((run / "plots.json").read_text())["points"]
    assert points["throughput.png"]["2xx"] > 0
    assert points["latency.png"]["p95"] > 0
    # The scenario's stale links: 404s it expects, which the errors plot shows apart.
    assert points["errors.png"]["4xx/s"] > 0
    return points


def test_a_throwaway_prometheus_records_the_run_for_the_plots(service, tmp_path):
    output, run = make_loadtest(service.url, tmp_path, f"METRICS_URL={service.metrics_url}")

    points = assert_plotted(output, run)
    assert points["replicas.png"]["gunicorn workers (app_workers)"] > 0
    assert points["replicas.png"]["scraped targets up"] > 0
    assert json.loads((run / "plots.json").read_text())["prometheus"] == (
        f"throwaway, scraping {service.metrics_url}"
    )


def test_an_existing_prometheus_is_asked_instead(service, tmp_path):
    with throwaway(service.metrics_url, wait_for_scrape=30) as prometheus:
        output, run = make_loadtest(service.url, tmp_path, f"PROMETHEUS_URL={prometheus.url}")

    assert_plotted(output, run)
    assert json.loads((run / "plots.json").read_text())["prometheus"] == prometheus.url


@pytest.mark.parametrize(
    ("variable", "why"),
    [
        ("PROMETHEUS_URL=http://127.0.0.1:{port}", "did not answer"),
        ("METRICS_URL=http://127.0.0.1:{port}/metrics", "could not scrape"),
    ],
)
def test_without_a_prometheus_the_run_passes_and_says_why_there_are_no_plots(
    service, tmp_path, variable, why
):
    setting = variable.format(port=free_port())
    output, run = make_loadtest(service.url, tmp_path, setting)

    (line,) = [line for line in output.splitlines() if line.startswith("loadtest: no plots:")]
    assert setting in line
    assert why in line
    assert not list(run.glob("*.png"))
    assert "No plots: " in (run / "report.md").read_text()
    assert (run / "summary.json").is_file()
