import logging
import time
from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class AccessLogMiddleware:
    """One JSON access-log line per HTTP request, named by the route template the request
    was served by (the same name the request metrics carry as `handler`)."""

    def __init__(
        self, app: ASGIApp, *, routes: Sequence[BaseRoute], exclude_paths: Sequence[str]
    ) -> None:
        self.app = app
        self.route_names = RouteNames(routes)
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
            duration = time.perf_counter() - start
            client = scope.get("client")
            logger.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "route": self.route_names(scope) or "<unmatched>",
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        "client_ip": client[0] if client else None,
                        "scheme": scope.get("scheme"),
                    }
                },
            )
