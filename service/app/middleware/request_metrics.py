"""The instrumentator's request metrics with less work per request.

prometheus-fastapi-instrumentator's middleware, per request, flattens the app's routers and
matches every route again to name the handler, builds a Request, a Response, Headers and an
Info holding them, and looks the in-progress gauge's child up through labels(), which
validates, converts and locks on every call. Our instrumentations (app.core.metrics) read only
the method, handler, status and duration. This subclass keeps its labels, its exclusions and
its in-progress gauge, and records them with:
- the routes flattened once, and matched once per request to name the handler;
- the template of a path without parameters remembered (one entry per such route);
- a trailing-slash redirect named by the template of the route it redirects to (the library
  names it by its path, one label set per path a client makes up);
- the in-progress gauge's child per method and handler kept in a dict;
- no Request or Response built.
"""

from timeit import default_timer

from prometheus_fastapi_instrumentator import routing
from prometheus_fastapi_instrumentator.metrics import Info
from prometheus_fastapi_instrumentator.middleware import PrometheusInstrumentatorMiddleware
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.metric_children import ChildrenByLabels


class RequestMetricsMiddleware(PrometheusInstrumentatorMiddleware):
    def __init__(self, app: ASGIApp, **options) -> None:
        for unsupported in ("body_handlers", "async_instrumentations", "should_include_root_path"):
            if options.get(unsupported):
                raise ValueError(f"RequestMetricsMiddleware does not implement {unsupported}")
        if options.get("should_round_latency_decimals") or options.get("should_respect_env_var"):
            raise ValueError("RequestMetricsMiddleware records durations unrounded, always")
        super().__init__(app, **options)
        self._routes = None  # flattened at the first request, when the app's routes are final
        self._static: dict[str, str] = {}
        self._excluded: dict[str, bool] = {}
        self._inprogress_children = (
            ChildrenByLabels(self.inprogress) if self.inprogress is not None else None
        )

    def _handler(self, scope: Scope) -> tuple[str, bool]:
        """The route template serving this path (templated), or the path itself."""
        path = scope["path"]
        name = self._static.get(path)
        if name is not None:
            return name, True
        if self._routes is None:
            self._routes = routing._effective_routes(scope["app"].routes)
        name = self._template(scope)
        if name is None:
            name = self._redirect_template(scope)
            return (name, True) if name else (path, False)
        if name == path:
            self._static[path] = name
        return name, True

    def _template(self, scope: Scope) -> str | None:
        """The library's route naming (a full match's path, else the first partial one's), over
        the routes flattened once: its own flattens them again on every call."""
        partial = None
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is Match.NONE:
                continue
            if isinstance(route, Mount):
                name = routing._get_route_name(scope, [route])  # it recurses into mounts
            else:
                name = getattr(route, "path", None)
            if name is not None and match is Match.FULL:
                return name
            partial = partial or name
        return partial

    def _redirect_template(self, scope: Scope) -> str | None:
        """For a path the router answers with a redirect to its trailing slash toggled, the
        template of the route it redirects to. The library names such a request by its own
        path, so `/api/v1/items/1/`, `/api/v1/items/2/`... would each be a new label set."""
        if not getattr(scope["app"].router, "redirect_slashes", False):
            return None
        path = scope["path"]
        toggled = path[:-1] if path.endswith("/") else path + "/"
        # "/" toggles to "", which no route matches.
        return self._template({**scope, "path": toggled}) if toggled else None

    def _is_excluded(self, handler: str, is_templated: bool) -> bool:
        if not is_templated:
            return self._is_handler_excluded(handler, is_templated)
        excluded = self._excluded.get(handler)
        if excluded is None:
            excluded = self._excluded[handler] = self._is_handler_excluded(handler, True)
        return excluded

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = default_timer()
        handler, is_templated = self._handler(scope)
        if self._is_excluded(handler, is_templated):
            return await self.app(scope, receive, send)
        if not is_templated and self.should_group_untemplated:
            handler = "none"
        method = scope["method"]
        inprogress = self.inprogress
        if inprogress is not None:
            if self.inprogress_labels:
                (inprogress,) = self._inprogress_children(method, handler)
            inprogress.inc()
        status = 500
        response_start = None

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_start
            if message["type"] == "http.response.start":
                status = message["status"]
                response_start = default_timer()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            end = default_timer()
            if inprogress is not None:
                inprogress.dec()
            status_label = str(int(status))
            if self.should_group_status_codes:
                status_label = status_label[0] + "xx"
            info = Info(
                request=None,  # type: ignore[arg-type] - our instrumentations do not read it
                response=None,
                method=method,
                modified_handler=handler,
                modified_status=status_label,
                modified_duration=max(end - start, 0.0),
                modified_duration_without_streaming=max((response_start or start) - start, 0.0),
            )
            for instrumentation in self.instrumentations:
                instrumentation(info)
