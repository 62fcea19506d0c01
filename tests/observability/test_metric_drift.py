"""Dashboards and alerts cannot drift from the code: every metric (and label) that the rules
and the dashboard query is one the real service exports on /metrics, or one they record."""

import json
import re

import httpx
import promql_parser
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.observability.conftest import CHART

# Series that come from elsewhere than the service, each with the reason it may be queried.
NOT_FROM_THE_SERVICE = {
    "up": "Prometheus' own scrape health of every target",
    "ALERTS": "Prometheus' series of pending and firing alerts",
    "kube_pod_container_status_restarts_total": "kube-state-metrics: container restarts",
    "kube_pod_container_status_last_terminated_reason": "kube-state-metrics: why it stopped",
}
# Labels Prometheus attaches to every scraped series (target labels), not the service.
TARGET_LABELS = {"namespace", "job", "pod", "instance", "container", "service", "endpoint"}
# Grafana's built-in variables, replaced by durations so the expressions parse as PromQL.
GRAFANA_DURATIONS = {"$__rate_interval": "5m", "$__range": "1d", "$__interval": "1m"}


def dashboard_expressions() -> list[str]:
    board = json.loads((CHART / "files" / "grafana" / "items-api.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(<series selector>, <label>)
            exprs.append(re.fullmatch(r"label_values\((.+),\s*\w+\)", variable["query"])[1])
    return exprs


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    for variable, duration in GRAFANA_DURATIONS.items():
        expr = expr.replace(variable, duration)
    found = []
    promql_parser.walk(
        promql_parser.parse(expr),
        lambda node: found.append(node) if isinstance(node, promql_parser.VectorSelector) else None,
    )
    return found


@pytest.fixture
def exported(running_service) -> dict[str, list[dict[str, str]]]:
    """Sample name -> label sets on /metrics, after traffic that touches every kind of route."""
    with httpx.Client(base_url=running_service.url, timeout=10) as http:
        for path in ("/api/v1/ping", "/api/v1/items", "/api/v1/slow?ms=1", "/api/v1/items/0"):
            http.get(path)
        text = http.get(running_service.metrics_url).text
    samples: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample.labels)
    return samples


@pytest.mark.slow
def test_rules_and_dashboard_query_only_what_the_service_exports(exported, rules):
    recorded = {
        rule["record"] for group in rules["groups"] for rule in group["rules"] if "record" in rule
    }
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    exprs += dashboard_expressions()
    problems = []
    for expr in exprs:
        for selector in selectors(expr):
            name = selector.name
            if name in recorded or name in NOT_FROM_THE_SERVICE:
                continue
            if name not in exported:
                problems.append(f"{name}: not on /metrics (in {expr.strip()[:80]!r})")
                continue
            label_sets = exported[name]
            for matcher in selector.matchers.matchers:
                if matcher.name in TARGET_LABELS:
                    continue
                if not any(matcher.name in labels for labels in label_sets):
                    problems.append(f"{name}: has no label {matcher.name!r}")
                elif matcher.op == promql_parser.MatchOp.Equal and not any(
                    labels.get(matcher.name) == matcher.value for labels in label_sets
                ):
                    problems.append(f"{name}: no series with {matcher.name}={matcher.value!r}")
    assert problems == []


def test_the_drift_check_sees_every_metric_the_rules_name(rules):
    names = {s.name for g in rules["groups"] for r in g["rules"] for s in selectors(r["expr"])}
    assert {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "db_pool_waiting",
    } <= names
    assert {"db_pool_timeouts_total", "http_requests_inprogress", "app_workers", "up"} <= names
