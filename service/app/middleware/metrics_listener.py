"""Sends the metrics listener's requests to the metrics app, everything else to the API."""

from starlette.types import ASGIApp, Receive, Scope, Send


class MetricsListenerMiddleware:
    """Requests that arrived on `port` go to `metrics_app`, and only those: the public
    listener has no /metrics, the metrics listener nothing but it.

    gunicorn binds both listeners in every worker; the ASGI scope's `server` is the local
    address the connection was accepted on (not a header, so a client cannot choose it).
    """

    def __init__(self, app: ASGIApp, *, port: int, metrics_app: ASGIApp) -> None:
        if not 1 <= port <= 65535:
            raise ValueError(f"metrics port {port} is not a TCP port")
        self.app = app
        self.port = port
        self.metrics_app = metrics_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] in ("http", "websocket") and server and server[1] == self.port:
            return await self.metrics_app(scope, receive, send)
        return await self.app(scope, receive, send)
