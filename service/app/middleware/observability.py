import logging
import time
from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metrics import inprogress_series, request_series

logger = logging.getLogger("app.access")


class RouteNames:
    """The route template a request is served by ("/api/v1/items/{item_id}"), chosen the way
    the router chooses: the first route whose path and method fit, else the first whose path
    fits (the router's 405). One regex per route, built once from the app's routes."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        self._table = [
            (context.path_regex.match, context.methods, context.path)
            for context in iter_route_contexts(routes)
            if not isinstance(context.route, WebSocketRoute)
        ]

    def __call__(self, scope: Scope) -> str | None:
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        method = scope["method"]
        partial = None
        for match, methods, template in self._table:
            if match(path):
                if methods is None or method in methods:
                    return template
                if partial is None:
                    partial = template
        return partial


class ObservabilityMiddleware:
    """One JSON access-log line and the request metrics for each HTTP request.

    Both come from one route lookup and one timing, so a log line and its metric series carry
    the same route name, and a request pays for the lookup once.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routes: Sequence[BaseRoute],
        log_exclude_paths: Sequence[str],
        metrics_exclude_paths: Sequence[str],
    ) -> None:
        self.app = app
        self.route_names = RouteNames(routes)
        self.log_exclude_paths = frozenset(log_exclude_paths)
        self.metrics_exclude_paths = frozenset(metrics_exclude_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        start = time.perf_counter()
        route = self.route_names(scope)
        method = scope["method"]
        logged = scope["path"] not in self.log_exclude_paths
        # Unmatched paths share one series: a scanner's random URLs must not mint new ones.
        handler = route or "none"
        counted = (route or scope["path"]) not in self.metrics_exclude_paths
        if counted:
            inprogress = inprogress_series(method, handler)
            inprogress.inc()
        status = 500

        async def send_capturing_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_capturing_status)
        finally:
            duration = time.perf_counter() - start
            if counted:
                inprogress.dec()
                requests, latency = request_series(handler, method, status)
                requests.inc()
                latency.observe(duration)
            if logged:
                client = scope.get("client")
                logger.info(
                    "request",
                    extra={
                        "fields": {
                            "method": method,
                            "route": route or "<unmatched>",
                            "status": status,
                            "duration_ms": round(duration * 1000, 2),
                            "client_ip": client[0] if client else None,
                            "scheme": scope.get("scheme"),
                        }
                    },
                )
