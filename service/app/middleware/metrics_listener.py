"""Sends the metrics listener's requests to the metrics app (and its probes to the app), the
public listener's to the app."""

from starlette.types import ASGIApp, Receive, Scope, Send


class MetricsListenerMiddleware:
    """Requests that arrived on `port` go to `metrics_app`, and only those: the public
    listener has no /metrics, the metrics listener nothing of the API. `probe_paths` are
    answered on both, so whoever may scrape a pod may also ask it whether it is ready (the
    deploy tool does, past an nginx sidecar that keeps /readyz off the public side).

    gunicorn binds both listeners in every worker; the ASGI scope's `server` is the local
    address the connection was accepted on (not a header, so a client cannot choose it).
    """

    def __init__(
        self, app: ASGIApp, *, port: int, metrics_app: ASGIApp, probe_paths: tuple[str, ...] = ()
    ) -> None:
        if not 1 <= port <= 65535:
            raise ValueError(f"metrics port {port} is not a TCP port")
        self.app = app
        self.port = port
        self.metrics_app = metrics_app
        self.probe_paths = frozenset(probe_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] in ("http", "websocket") and server and server[1] == self.port:
            if scope["type"] == "http" and scope["path"] in self.probe_paths:
                return await self.app(scope, receive, send)
            return await self.metrics_app(scope, receive, send)
        return await self.app(scope, receive, send)
