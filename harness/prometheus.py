"""A Prometheus server's HTTP API as the tests and reports ask it, and a throwaway server.

The throwaway server (the pinned binary `make tools` builds into .tools/bin) scrapes given
/metrics URLs every second in a temporary directory on a free port: tests/observability runs
the chart's rules in it, `make loadtest` records the run in it for the report's plots.
"""

import re
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import yaml

from harness.net import free_port, wait_for_http
from harness.wait import WaitTimeout, eventually

REPO = Path(__file__).resolve().parent.parent
PROMETHEUS = REPO / ".tools" / "bin" / "prometheus"
JOB = "items-api"


class Prometheus:
    def __init__(self, url: str, timeout: float = 10) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=timeout)

    def get(self, path: str, **params) -> dict | list:
        response = self.http.get(f"/api/v1/{path}", params=params)
        response.raise_for_status()
        return response.json()["data"]

    def ready(self) -> bool:
        try:
            return self.http.get("/-/ready").status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, expr: str) -> list[dict]:
        return self.get("query", query=expr)["result"]

    def query_range(self, expr: str, start: float, end: float, step: float = 5) -> list[dict]:
        return self.get("query_range", query=expr, start=start, end=end, step=step)["result"]

    def rules(self) -> list[dict]:
        return [rule for group in self.get("rules")["groups"] for rule in group["rules"]]

    def rules_with_errors(self) -> list[tuple[str, str]]:
        return [(r["name"], r.get("lastError", "")) for r in self.rules() if r["health"] == "err"]

    def alerts(self, name: str) -> list[dict]:
        return [a for a in self.get("alerts")["alerts"] if a["labels"]["alertname"] == name]

    def scrape_interval(self) -> float:
        """The server's global scrape interval in seconds (Prometheus' default: 1m)."""
        config = yaml.safe_load(self.get("status/config")["yaml"]) or {}
        return seconds(config.get("global", {}).get("scrape_interval", "1m"))


def seconds(duration: str) -> float:
    """A Prometheus duration such as 15s, 1m or 1m30s, in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    return sum(int(n) * units[unit] for n, unit in re.findall(r"(\d+)(ms|[smhdwy])", duration))


@contextmanager
def throwaway(
    metrics_url: str,
    *,
    labels: dict[str, str] | None = None,
    rules: str | None = None,
    binary: Path = PROMETHEUS,
    wait_for_scrape: float = 0,
) -> Iterator[Prometheus]:
    """A Prometheus scraping `metrics_url` (path included) every second as job
    items-api with extra target `labels` (e.g. the namespace a ServiceMonitor would add),
    evaluating `rules` every second. With `wait_for_scrape`, it yields only once the target
    has been scraped, and raises RuntimeError with the scrape error if the first scrape
    fails or none happens within that many seconds."""
    if not Path(binary).is_file():
        raise FileNotFoundError(f"no Prometheus server at {binary} (`make tools` builds it)")
    with tempfile.TemporaryDirectory(prefix="items-api-prometheus-") as base:
        work = Path(base)
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": [_scrape_config(metrics_url, labels or {})],
        }
        if rules is not None:
            (work / "rules.yaml").write_text(rules)
            config["rule_files"] = ["rules.yaml"]
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        with (work / "prometheus.log").open("w") as log:
            # Its own session: a Ctrl-C meant for the load test must not stop the recording.
            process = subprocess.Popen(
                [binary, f"--config.file={work / 'prometheus.yml'}",
                 f"--storage.tsdb.path={work / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
            try:
                wait_for_http(f"http://127.0.0.1:{port}/-/ready", process=process)
                prometheus = Prometheus(f"http://127.0.0.1:{port}")
                if wait_for_scrape:
                    _wait_for_scrape(prometheus, wait_for_scrape)
                yield prometheus
            finally:
                process.terminate()
                process.wait(30)


def _scrape_config(metrics_url: str, labels: dict[str, str]) -> dict:
    parts = urlsplit(metrics_url)
    return {
        "job_name": JOB,
        "scheme": parts.scheme or "http",
        "metrics_path": parts.path or "/metrics",
        "static_configs": [{"targets": [parts.netloc], "labels": labels}],
    }


def _wait_for_scrape(prometheus: Prometheus, timeout: float) -> None:
    targets: list[dict] = []

    def failed() -> RuntimeError:
        errors = [target["lastError"] for target in targets if target["lastError"]]
        return RuntimeError("; ".join(errors) or f"no scrape within {timeout:g} s")

    def scraped() -> bool:
        targets[:] = prometheus.get("targets")["activeTargets"]
        health = {target["health"] for target in targets}
        if "down" in health and "up" not in health:
            raise failed()
        return "up" in health

    try:
        eventually(scraped, "a first scrape", timeout=timeout, every=0.2)
    except WaitTimeout:
        raise failed() from None
