"""The request metrics as the dashboard reads them: each request counted once, by route
template, method and status; excluded paths not at all."""

import asyncio

import httpx
import pytest
from app.middleware.request_metrics import RequestMetricsMiddleware
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from prometheus_fastapi_instrumentator.metrics import Info


def app_counting() -> tuple[FastAPI, list[tuple[str, str, str]]]:
    app = FastAPI()

    @app.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict:
        return {"id": thing_id}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {}

    seen: list[tuple[str, str, str]] = []

    def record(info: Info) -> None:
        seen.append((info.method, info.modified_handler, info.modified_status))

    # The in-progress gauge registers itself in the default registry: a name of its own.
    app.add_middleware(
        RequestMetricsMiddleware,
        should_group_status_codes=False,
        excluded_handlers=["^/healthz$"],
        should_instrument_requests_inprogress=True,
        inprogress_name="test_request_metrics_inprogress",
        inprogress_labels=True,
        instrumentations=[record],
        registry=CollectorRegistry(),
    )
    return app, seen


def test_requests_are_named_by_their_route_template():
    app, seen = app_counting()

    async def requests() -> list[int]:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            return [
                (await http.request(method, path)).status_code
                for method, path in [
                    ("GET", "/things/1"), ("GET", "/things/2"), ("GET", "/things/x"),
                    ("POST", "/things/1"), ("GET", "/nowhere"), ("GET", "/healthz"),
                    ("GET", "/things/1/"), ("GET", "/things/2/"),
                ]
            ]  # fmt: skip

    assert asyncio.run(requests()) == [200, 200, 422, 405, 404, 200, 307, 307]
    assert seen == [
        ("GET", "/things/{thing_id}", "200"),
        ("GET", "/things/{thing_id}", "200"),
        ("GET", "/things/{thing_id}", "422"),
        ("POST", "/things/{thing_id}", "405"),
        ("GET", "none", "404"),
        # Redirects to the route without the slash: its template, not one label set per id.
        ("GET", "/things/{thing_id}", "307"),
        ("GET", "/things/{thing_id}", "307"),
    ]


@pytest.mark.parametrize(
    "options", [{"body_handlers": ["^/x$"]}, {"should_round_latency_decimals": True}]
)
def test_options_it_does_not_implement_are_refused(options):
    with pytest.raises(ValueError, match="RequestMetricsMiddleware"):
        RequestMetricsMiddleware(FastAPI(), **options)
