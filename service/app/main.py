"""Builds the ASGI app; `app.main:app` is what gunicorn serves."""

import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.middleware.cors import CORSMiddleware

from app.api.main import add_routes, include_api
from app.api.routes import ops
from app.core.config import PROBE_PATHS, Settings, get_settings
from app.core.db import Database, create_engine, create_probe_engine
from app.core.metrics import (
    APP_BUILD_INFO,
    APP_WORKERS,
    DB_POOL_SIZE,
    instrument,
    metrics_app,
)
from app.core.migrations import head_revision
from app.core.problems import describe_problems, install_problem_handlers
from app.middleware.access_log import AccessLogMiddleware
from app.middleware.gzip import GZipMiddleware
from app.middleware.methods import HttpMethodsMiddleware
from app.middleware.metrics_listener import MetricsListenerMiddleware
from app.middleware.request_id import RequestIdMiddleware
from app.middleware.trusted_host import TrustedHostMiddleware

logger = logging.getLogger("app")


def _turn_unready_on_sigterm(app: FastAPI) -> None:
    # The server keeps serving in-flight requests after SIGTERM; /readyz must say 503 from
    # the first moment so that no new traffic is routed here while they finish.
    previous = signal.getsignal(signal.SIGTERM)
    if not callable(previous):
        return

    def handler(signum, frame) -> None:
        app.state.shutting_down = True
        previous(signum, frame)

    signal.signal(signal.SIGTERM, handler)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    app.state.engine = create_engine(settings)
    app.state.probe_engine = create_probe_engine(settings)
    app.state.database = Database(app.state.engine)
    app.state.sessionmaker = app.state.database.session
    app.state.shutting_down = False
    DB_POOL_SIZE.set(settings.DB_POOL_SIZE)
    APP_BUILD_INFO.labels(settings.APP_VERSION, settings.GIT_SHA).set(1)
    APP_WORKERS.labels(os.environ.get("APP_WORKERS_SOURCE", "single process")).set(
        int(os.environ.get("APP_WORKERS", "1"))
    )
    _turn_unready_on_sigterm(app)
    try:
        yield
    finally:
        app.state.shutting_down = True
        await app.state.engine.dispose()
        await app.state.probe_engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="items-api",
        version=settings.APP_VERSION,
        debug=settings.DEBUG,
        lifespan=lifespan,
        docs_url="/docs" if settings.ENVIRONMENT != "production" else None,
        redoc_url=None,
        # The service reports through Prometheus (app.core.metrics) and its JSON access log,
        # and ships no OpenTelemetry SDK: FastAPI's native telemetry would only look the
        # global providers up again on every request to find them unconfigured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.shutting_down = False
    # Read once while the app is built (under gunicorn's preload: in the master).
    app.state.head_revision = head_revision()
    install_problem_handlers(app)
    describe_problems(app)
    include_api(app)
    # The router tries routes in order: probes come every few seconds, API requests far
    # more often, so these go after the API's.
    add_routes(app, ops.router)
    # FastAPI puts the routes of its own documents (/openapi.json, /docs) first. A request
    # is matched against every route before its own, and these are rarely asked for.
    app.router.routes.sort(key=lambda route: not isinstance(route, APIRoute | APIWebSocketRoute))
    # Inside the metrics middleware (added by instrument), so HEAD is counted as HEAD.
    app.add_middleware(HttpMethodsMiddleware, routes=app.router.routes)
    instrument(app, settings.METRICS_EXCLUDE_PATHS)

    # add_middleware wraps: the last added runs first on the way in.
    app.add_middleware(GZipMiddleware, minimum_size=settings.GZIP_MIN_BYTES)
    if settings.CORS_ORIGINS:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.CORS_ORIGINS,
            allow_methods=["GET", "HEAD", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        )
    app.add_middleware(
        TrustedHostMiddleware, hosts=settings.TRUSTED_HOSTS, exempt_paths=PROBE_PATHS
    )
    app.add_middleware(
        AccessLogMiddleware, routes=app.routes, exclude_paths=settings.ACCESS_LOG_EXCLUDE_PATHS
    )
    app.add_middleware(RequestIdMiddleware)
    # Outermost: a scrape on the metrics listener passes none of the API's middleware.
    app.add_middleware(
        MetricsListenerMiddleware,
        port=settings.METRICS_PORT,
        metrics_app=metrics_app(),
        probe_paths=PROBE_PATHS,
    )
    return app


app = create_app()
