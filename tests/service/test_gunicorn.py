"""The real process model: gunicorn, two uvicorn workers, the entrypoint, signals."""

import json
import os
import re
import signal
import threading
import time

import httpx
import pytest

from harness.net import wait_for_http
from harness.service import ServiceProcess
from harness.wait import eventually

pytestmark = pytest.mark.slow


def counter(metrics_text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in metrics_text.splitlines():
        if not line.startswith(name + "{"):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_request_counts_add_up_across_workers(running_service):
    url = running_service.url
    sent = 60
    with httpx.Client(base_url=url) as client:
        # New connections each time, so both workers take requests.
        for _ in range(sent):
            assert httpx.get(f"{url}/api/v1/ping").status_code == 200
        metrics = client.get(running_service.metrics_url).text
    handled = counter(
        metrics, "http_requests_total", handler="/api/v1/ping", method="GET", status="200"
    )
    assert handled == sent
    assert counter(metrics, "http_request_duration_seconds_count", handler="/api/v1/ping") == sent
    assert 'le="0.25"' in metrics
    # Probes and the scrape itself are not counted by default.
    assert counter(metrics, "http_requests_total", handler="/readyz") == 0
    assert counter(metrics, "app_workers") == 2
    assert "db_pool_size" in metrics
    assert "app_build_info{" in metrics


def test_metrics_only_on_their_own_listener(running_service):
    public = httpx.get(f"{running_service.url}/metrics")
    scraped = httpx.get(running_service.metrics_url)
    internal = running_service.metrics_url.removesuffix("/metrics")
    api_on_metrics_listener = httpx.get(f"{internal}/api/v1/items")

    assert public.status_code == 404
    assert public.headers["content-type"] == "application/problem+json"
    assert scraped.status_code == 200
    assert "http_requests_total" in scraped.text
    assert api_on_metrics_listener.status_code == 404
    assert api_on_metrics_listener.headers["content-type"] == "application/problem+json"
    # The probes answer on both: the deploy tool asks /readyz past an nginx sidecar.
    assert httpx.get(f"{internal}/readyz").status_code == 200


def test_counts_survive_a_worker_being_recycled(database_url):
    service = ServiceProcess(database_url, MAX_REQUESTS="15", MAX_REQUESTS_JITTER="0").start()
    try:
        before = set(service.worker_pids())
        sent = resets = 0
        while sent < 50:
            try:
                # Generous timeout: a recycled worker's replacement may still be booting.
                response = httpx.get(f"{service.url}/api/v1/ping", timeout=30)
            except (httpx.ReadError, httpx.RemoteProtocolError):
                # A stopping worker closes the connections it accepted but had not read a
                # request from: that request never reached the app. A client retries it,
                # as nginx does (proxy_next_upstream error).
                resets += 1
                assert resets <= 5, "recycling reset more than the odd connection"
                continue
            assert response.status_code == 200
            sent += 1
        eventually(
            lambda: not set(service.worker_pids()) & before,
            "every worker recycled",
            timeout=15,
            every=0.2,
        )
        metrics = httpx.get(service.metrics_url).text
        assert counter(metrics, "http_requests_total", handler="/api/v1/ping") == sent
    finally:
        service.close()


def test_readyz_follows_the_database_without_a_restart(postgres, running_service):
    url = running_service.url
    pid = running_service.process.pid
    postgres.stop()
    try:
        wait_for_http(f"{url}/readyz", status=503, timeout=10)
        assert httpx.get(f"{url}/readyz").headers["x-failing-check"] == "database"
        assert httpx.get(f"{url}/livez").status_code == 200
        outage = httpx.get(f"{url}/api/v1/items", timeout=15)
        assert outage.status_code == 503
        assert outage.headers["content-type"] == "application/problem+json"
        assert "Traceback" not in outage.text
    finally:
        postgres.start()
    wait_for_http(f"{url}/readyz", status=200, timeout=10)
    assert httpx.get(f"{url}/api/v1/items").status_code == 200
    assert running_service.process.pid == pid
    assert running_service.process.poll() is None


def wait_until_in_progress(metrics_url: str, handler: str, count: int) -> None:
    eventually(
        lambda: (
            counter(httpx.get(metrics_url).text, "http_requests_inprogress", handler=handler)
            >= count
        ),
        f"{count} requests to {handler} in flight together",
        timeout=20,
    )


def test_sigterm_turns_unready_and_finishes_in_flight_requests(running_service):
    url = running_service.url
    results: list[httpx.Response] = []

    def slow_request() -> None:
        results.append(httpx.get(f"{url}/api/v1/slow", params={"ms": 3000}, timeout=30))

    with httpx.Client(base_url=url) as keepalive:
        assert keepalive.get("/readyz").status_code == 200
        threads = [threading.Thread(target=slow_request) for _ in range(4)]
        for thread in threads:
            thread.start()
        wait_until_in_progress(running_service.metrics_url, "/api/v1/slow", 4)
        started = time.monotonic()
        os.kill(running_service.process.pid, signal.SIGTERM)
        for thread in threads:
            thread.join()
        exit_code = running_service.process.wait(15)
    assert [response.status_code for response in results] == [200] * 4
    assert exit_code == 0
    assert time.monotonic() - started < int(running_service.env["GRACEFUL_TIMEOUT_S"])


def test_log_lines_are_json_with_request_id_and_worker_plan(running_service):
    httpx.get(f"{running_service.url}/api/v1/items/424242", headers={"X-Request-ID": "trace-me"})

    def records() -> list[dict]:
        log = running_service.log().splitlines()
        return [json.loads(line) for line in log if line.startswith("{")]

    # The worker writes the line after the response.
    traced = eventually(
        lambda: [line for line in records() if line.get("request_id") == "trace-me"],
        "the traced access-log line",
    )
    [access] = [line for line in traced if line.get("logger") == "app.access"]
    assert {
        "method": "GET",
        "route": "/api/v1/items/{item_id}",
        "status": 404,
        "client_ip": "127.0.0.1",
    }.items() <= access.items()
    assert "duration_ms" in access
    plan = next(line for line in records() if line["msg"].startswith("worker plan"))
    assert (plan["workers"], plan["source"]) == (2, "WEB_CONCURRENCY")
