"""The chart's rules in a real Prometheus server scraping the real service under gunicorn:
every rule evaluates without error on the series the service really exports, and the
availability alert goes pending, then firing, when the database is gone."""

from collections.abc import Callable

import httpx
import pytest

from harness.net import free_port, wait_for_http
from harness.prometheus import throwaway
from harness.service import ServiceProcess
from harness.wait import eventually
from observability.render_rules import render_rules
from tests.observability.conftest import HELM


def prometheus_scraping(metrics_url: str, rules: str):
    """The throwaway Prometheus scraping the service as job items-api in namespace items (the
    labels a ServiceMonitor gives), evaluating `rules` every second."""
    return throwaway(metrics_url, labels={"namespace": "items"}, rules=rules)


def poll(what: str, check: Callable[[], object], traffic: Callable[[], None]):
    """Send traffic until check() returns something truthy, and return it."""
    return eventually(check, what, timeout=90, every=0.5, before_each=traffic)


@pytest.mark.slow
def test_every_rule_evaluates_cleanly_on_the_real_services_series(running_service):
    def traffic() -> None:
        for path in ("/api/v1/ping", "/api/v1/items", "/api/v1/slow?ms=1"):
            httpx.get(running_service.url + path, timeout=10)

    with prometheus_scraping(running_service.metrics_url, render_rules(str(HELM))) as prometheus:
        # Both, polled together: a scrape committed while a group is being evaluated can
        # make one rule of that evaluation see two samples and the one before it only one.
        [errors] = poll(
            "the ratios to be recorded",
            lambda: (
                prometheus.query("namespace_job:items_api_http_slow:ratio_rate5m")
                and prometheus.query("namespace_job:items_api_http_errors:ratio_rate5m")
            ),
            traffic,
        )
        assert errors["metric"] == {
            "__name__": "namespace_job:items_api_http_errors:ratio_rate5m",
            "namespace": "items",
            "job": "items-api",
        }
        assert float(errors["value"][1]) == 0
        rules = poll(
            "every rule to be evaluated",
            lambda: (
                all(r["health"] != "unknown" for r in prometheus.rules()) and prometheus.rules()
            ),
            traffic,
        )
        assert [(r["name"], r["lastError"]) for r in rules if r["health"] != "ok"] == []
        firing = [a["labels"]["alertname"] for a in prometheus.get("alerts")["alerts"]]
        assert firing == []


@pytest.mark.slow
def test_availability_alert_goes_pending_then_firing_when_the_database_is_gone():
    # Nothing listens on this port: every request that needs the database fails.
    service = ServiceProcess(f"postgresql+asyncpg://items:unused@127.0.0.1:{free_port()}/items")
    service.start(wait=False)
    rules = render_rules(str(HELM), helm_args=["--set", "prometheusRule.burnRateFor.page1h=3s"])
    try:
        wait_for_http(f"{service.url}/livez", process=service.process)

        def traffic() -> None:
            assert httpx.get(f"{service.url}/api/v1/items", timeout=10).status_code >= 500

        with prometheus_scraping(service.metrics_url, rules) as prometheus:
            states = []

            def fast_burn_state() -> str | None:
                alerts = [
                    a for a in prometheus.alerts("ItemsApiAvailabilityBudgetBurn")
                    if a["labels"]["long"] == "1h"
                ]  # fmt: skip
                if alerts and (not states or states[-1] != alerts[0]["state"]):
                    states.append(alerts[0]["state"])
                return alerts and alerts[0]["state"] == "firing" and alerts[0]

            alert = poll("the 1h/5m availability alert to fire", fast_burn_state, traffic)
    finally:
        service.close()
    assert states == ["pending", "firing"]
    assert alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["description"].startswith("100% of the requests to items-api")
    assert alert["annotations"]["runbook_url"].endswith("#itemsapiavailabilitybudgetburn")
