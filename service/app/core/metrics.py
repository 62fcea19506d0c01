"""Prometheus metrics. Every worker writes to PROMETHEUS_MULTIPROC_DIR; /metrics, on the
metrics listener only (app.middleware.metrics_listener), aggregates."""

import os

from fastapi import FastAPI
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, make_asgi_app
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_fastapi_instrumentator.metrics import Info
from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.metric_children import ChildrenByLabels
from app.core.problems import problem_response
from app.middleware.request_metrics import RequestMetricsMiddleware

METRICS_PATH = "/metrics"

# The latency SLO threshold (0.25 s) is a bucket boundary, so the SLO needs no interpolation.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
INPROGRESS_METRIC = "http_requests_inprogress"

# What the recording rules and the dashboard read (observability/): nothing more, since in
# multiprocess mode every sample written is a locked write to a memory-mapped file. The
# instrumentator's own `metrics.requests()` and `metrics.latency()` with their defaults, as
# one instrumentation (its extension point) that looks each label set's children up in a dict
# (app.core.metric_children) where theirs call labels() per request.
REQUEST_LABELS = ("handler", "method", "status")
REQUESTS_TOTAL = Counter(
    "http_requests_total", "Total number of requests by method, status and handler.", REQUEST_LABELS
)
REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Duration of HTTP requests in seconds",
    REQUEST_LABELS,
    buckets=LATENCY_BUCKETS,
)
_request_children = ChildrenByLabels(REQUESTS_TOTAL, REQUEST_DURATION)


def record_request(info: Info) -> None:
    total, duration = _request_children(info.modified_handler, info.method, info.modified_status)
    total.inc()
    duration.observe(info.modified_duration)


REQUEST_INSTRUMENTATIONS = [record_request]

DB_POOL_SIZE = Gauge(
    "db_pool_size", "Connections the pool keeps open.", multiprocess_mode="livesum"
)
DB_POOL_CHECKED_OUT = Gauge(
    "db_pool_checked_out", "Connections in use by requests.", multiprocess_mode="livesum"
)
DB_POOL_OVERFLOW = Gauge(
    "db_pool_overflow", "Connections open beyond the pool size.", multiprocess_mode="livesum"
)
DB_POOL_WAITING = Gauge(
    "db_pool_waiting", "Requests waiting for a free connection.", multiprocess_mode="livesum"
)
DB_POOL_TIMEOUTS = Counter("db_pool_timeouts", "Requests that gave up waiting for a connection.")
APP_WORKERS = Gauge(
    "app_workers",
    "Worker processes and how their count was chosen.",
    ["source"],
    multiprocess_mode="max",
)
APP_BUILD_INFO = Gauge(
    "app_build_info",
    "Version and commit of the running code.",
    ["version", "git_sha"],
    multiprocess_mode="max",
)


def _forget_inprogress_gauge() -> None:
    # The instrumentator's middleware registers its in-progress gauge in the global registry
    # each time an app's middleware stack is built, whatever `registry=` the Instrumentator got
    # (trallnag/prometheus-fastapi-instrumentator#317; the fix, PR #336, is not released). A
    # server builds one app; the test suite builds one per test, so the previous app's gauge
    # must go first, and the registry has no public way to find a collector by name.
    collector = REGISTRY._names_to_collectors.get(INPROGRESS_METRIC)
    if collector is not None:
        REGISTRY.unregister(collector)


def instrument(app: FastAPI, excluded_paths: list[str]) -> None:
    """Request count and latency by route template, method and status, and requests in
    progress: prometheus-fastapi-instrumentator's metrics, recorded by its middleware as
    app.middleware.request_metrics trims it; metrics_app() serves them."""
    _forget_inprogress_gauge()
    app.add_middleware(
        RequestMetricsMiddleware,
        should_group_status_codes=False,
        should_ignore_untemplated=False,
        excluded_handlers=[f"^{path}$" for path in excluded_paths],
        should_instrument_requests_inprogress=True,
        inprogress_name=INPROGRESS_METRIC,
        inprogress_labels=True,
        instrumentations=REQUEST_INSTRUMENTATIONS,
    )


def metrics_app() -> ASGIApp:
    """The metrics listener's app: GET /metrics, the sum over every worker's files when
    PROMETHEUS_MULTIPROC_DIR is set (service/bin/start sets it); a 404 problem otherwise."""
    multiproc_dir = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if multiproc_dir:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, multiproc_dir)
    else:
        registry = REGISTRY
    exposition = make_asgi_app(registry)

    async def serve(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == METRICS_PATH:
            return await exposition(scope, receive, send)
        if scope["type"] != "http":
            # A WebSocket handshake on this listener: refuse it.
            await receive()
            return await send({"type": "websocket.close", "code": 1008})
        response = problem_response(404, "this listener serves /metrics and the probes only")
        return await response(scope, receive, send)

    return serve
