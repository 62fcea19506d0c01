import logging
import time

from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("app.access")


class AccessLogMiddleware:
    """One JSON line per request, with the route template rather than the raw path.

    The template is resolved the way the request metrics resolve it, so a log line and its
    metric series carry the same route name.
    """

    def __init__(self, app: ASGIApp, *, exclude_paths: list[str]) -> None:
        self.app = app
        self.exclude_paths = frozenset(exclude_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exclude_paths:
            return await self.app(scope, receive, send)

        start = time.perf_counter()
        status = 500

        async def send_capturing_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_capturing_status)
        finally:
            route = get_route_name(HTTPConnection(scope), should_include_root_path=False)
            client = scope.get("client")
            logger.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": route or "<unmatched>",
                        "status": status,
                        "duration_ms": round((time.perf_counter() - start) * 1000, 2),
                        "client_ip": client[0] if client else None,
                        "scheme": scope.get("scheme"),
                    }
                },
            )
