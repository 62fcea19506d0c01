"""The listener split in process: which app answers depends on the port a request came in on."""

import asyncio

import httpx
import pytest
from app.middleware.metrics_listener import MetricsListenerMiddleware
from starlette.responses import PlainTextResponse

METRICS_PORT = 9000


async def api(scope, receive, send):
    await PlainTextResponse(f"api {scope['path']}")(scope, receive, send)


async def metrics(scope, receive, send):
    await PlainTextResponse(f"metrics {scope['path']}")(scope, receive, send)


def get(port: int, path: str) -> str:
    """GET `path` as it arrives on `port` (the ASGI scope's server), Host naming the other."""
    app = MetricsListenerMiddleware(
        api, port=METRICS_PORT, metrics_app=metrics, probe_paths=("/readyz",)
    )

    async def request() -> str:
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://pod:{port}") as http:
            # A Host header naming the metrics port does not move a request to that listener.
            response = await http.get(path, headers={"Host": f"pod:{METRICS_PORT}"})
        return response.text

    return asyncio.run(request())


@pytest.mark.parametrize(
    ("port", "path", "answer"),
    [
        (8000, "/api/v1/items", "api /api/v1/items"),
        (8000, "/metrics", "api /metrics"),
        (METRICS_PORT, "/metrics", "metrics /metrics"),
        (METRICS_PORT, "/api/v1/items", "metrics /api/v1/items"),
        (METRICS_PORT, "/readyz", "api /readyz"),
    ],
)
def test_the_listener_not_the_request_chooses_the_app(port, path, answer):
    assert get(port, path) == answer


def test_a_port_out_of_range_is_refused():
    with pytest.raises(ValueError, match="not a TCP port"):
        MetricsListenerMiddleware(api, port=70000, metrics_app=metrics)
