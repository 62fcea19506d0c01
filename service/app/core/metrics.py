"""Prometheus metrics. Every worker writes to PROMETHEUS_MULTIPROC_DIR; /metrics aggregates."""

import os
from functools import cache

from fastapi import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# The latency SLO threshold (0.25 s) is a bucket boundary, so the SLO needs no interpolation.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

# What the recording rules and the dashboard read (observability/): nothing more, since in
# multiprocess mode every sample written is a locked write to a memory-mapped file.
HTTP_REQUESTS = Counter(
    "http_requests_total",
    "Total number of requests by method, status and handler.",
    ["handler", "method", "status"],
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Duration of HTTP requests in seconds",
    ["handler", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
HTTP_REQUESTS_INPROGRESS = Gauge(
    "http_requests_inprogress",
    "Number of HTTP requests in progress.",
    ["method", "handler"],
    multiprocess_mode="livesum",
)


# A label set's children never change, while labels() validates and locks on every call.
@cache
def request_series(handler: str, method: str, status: int) -> tuple[Counter, Histogram]:
    """The counter and latency histogram of one handler, method and status."""
    return (
        HTTP_REQUESTS.labels(handler, method, status),
        HTTP_REQUEST_DURATION.labels(handler, method, status),
    )


@cache
def inprogress_series(method: str, handler: str) -> Gauge:
    return HTTP_REQUESTS_INPROGRESS.labels(method, handler)


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


def metrics_response() -> Response:
    """The exposition of every worker's samples (or this process's, outside gunicorn)."""
    registry = REGISTRY
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
