import logging
import sys
import time
from collections.abc import Sequence

from fastapi.routing import iter_route_contexts
from pydantic_core import to_json
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import UtcClock, json_entry

logger = logging.getLogger("app.access")


class RouteNames:
    """The route template a request was served by ("/api/v1/items/{item_id}"). The router
    leaves the route it chose in scope["route"] (for a 405 too), but for a route of an included
    router that is the router's own route object, whose path lacks the prefixes: its full
    template is looked up by identity, in a table built once from the app's routes."""

    def __init__(self, routes: Sequence[BaseRoute]) -> None:
        templates: dict[int, set[str]] = {}
        for context in iter_route_contexts(routes):
            templates.setdefault(id(context.route), set()).add(context.path)
        # A route object included under two prefixes has no one template; it stays unnamed.
        self._templates = {key: paths.pop() for key, paths in templates.items() if len(paths) == 1}

    def __call__(self, scope: Scope) -> str | None:
        route = scope.get("route")
        return None if route is None else self._templates.get(id(route))


class AccessLogMiddleware:
    """One JSON access-log line per HTTP request, named by the route template the request
    was served by (the same name the request metrics carry as `handler`)."""

    def __init__(
        self, app: ASGIApp, *, routes: Sequence[BaseRoute], exclude_paths: Sequence[str]
    ) -> None:
        self.app = app
        self.route_names = RouteNames(routes)
        self.exclude_paths = frozenset(exclude_paths)
        self.clock = UtcClock()

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
            if logger.isEnabledFor(logging.INFO):
                duration = time.perf_counter() - start
                client = scope.get("client")
                self._write(
                    {
                        "method": scope["method"],
                        "route": self.route_names(scope) or "<unmatched>",
                        "status": status,
                        "duration_ms": round(duration * 1000, 2),
                        "client_ip": client[0] if client else None,
                        "scheme": scope.get("scheme"),
                    }
                )

    def _write(self, fields: dict[str, object]) -> None:
        """The line the logging configuration (app.core.logging) would write, written as its
        stream handler writes it: to stderr, flushed. A record, the handler's lock and its
        formatter took about 12 us per line, a tenth of a ping; they bring nothing to a line
        whose logger, level, format and destination are fixed."""
        entry = json_entry(self.clock(time.time()), "INFO", logger.name, "request", fields)
        try:
            sys.stderr.write(to_json(entry).decode() + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            # Through logging, whose handler reports a stream that fails and carries on.
            logger.info("request", extra={"fields": fields})
