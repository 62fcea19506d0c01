"""HTTP method semantics the router leaves out (RFC 9110 9.3.2, 9.3.7, 15.5.6).

FastAPI's routes answer only the methods they declare: HEAD is a 405 where GET works, OPTIONS is
a 405 everywhere, and a 405 lists in `Allow` only the methods of the one route that matched
first, not every method of the path (`/api/v1/items` has a GET route and a POST route). Here:
HEAD is GET without the body; OPTIONS on a path that exists is a 204 whose `Allow` lists every
method of the path (a CORS preflight never gets here: the CORS middleware answers it first);
`allowed_methods` gives the same list to the 405 handler (app.core.problems).
"""

from collections.abc import Iterable

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The methods a route may declare; HEAD and OPTIONS are answered here for every path.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(routes: Iterable[BaseRoute], scope: Scope) -> list[str]:
    """Every method some route answers at this scope's path; empty when no route has it.

    Asks each route whether it would take the request with each method, rather than reading
    route paths and methods: included routers nest their routes in ways of their own."""
    methods = {
        method
        for method in METHODS
        for route in routes
        if route.matches({**scope, "type": "http", "method": method})[0] is Match.FULL
    }
    if not methods:
        return []
    if "GET" in methods:
        methods.add("HEAD")
    return sorted({*methods, "OPTIONS"})


class HttpMethodsMiddleware:
    def __init__(self, app: ASGIApp, *, routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if scope["method"] == "HEAD":
            return await self.app({**scope, "method": "GET"}, receive, _without_body(send))
        if scope["method"] == "OPTIONS":
            allowed = allowed_methods(self.routes, scope)
            if allowed:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 204,
                        "headers": [(b"allow", ", ".join(allowed).encode())],
                    }
                )
                return await send({"type": "http.response.body", "body": b""})
        await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    # The headers (Content-Length included) are GET's; the server sends no body for a HEAD
    # either, but a middleware or test client further out should not see one.
    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head
