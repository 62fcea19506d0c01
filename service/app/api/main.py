import inspect

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute, APIWebSocketRoute

from app.api.routes import auth, items, workload
from app.core.problems import API_ERRORS, AUTH_ERRORS, CONFLICT_ERRORS, DATABASE_ERRORS

API_PREFIX = "/api/v1"
# Busiest first: the app's router tries its routes in order.
# Each with the errors its operations can answer (OpenAPI).
API_ROUTERS: tuple[tuple[APIRouter, dict], ...] = (
    (items.router, {**API_ERRORS, **AUTH_ERRORS, **DATABASE_ERRORS, **CONFLICT_ERRORS}),
    (workload.router, API_ERRORS),
    (auth.router, {**API_ERRORS, **AUTH_ERRORS, **DATABASE_ERRORS}),
)

# Everything an APIRoute was declared with, which add_api_route takes again by the same names.
_ROUTE_OPTIONS = tuple(
    name
    for name in inspect.signature(APIRouter.add_api_route).parameters
    if name not in {"self", "path", "endpoint", "responses", "route_class_override"}
)


def add_routes(
    app: FastAPI, router: APIRouter, prefix: str = "", responses: dict | None = None
) -> None:
    """What `app.include_router(router, prefix=prefix, responses=responses)` declares, as
    routes of the app's own router.

    FastAPI keeps an included router as one route that matches the router's routes on every
    request, twice (to choose it, then to handle it), with scope bookkeeping around each: a
    ping cost about a tenth more CPU than with the same routes on the app itself
    (loadtest/README.md, "Where the gap is"). Routes built here on the app's router, as
    include_router built them before FastAPI 0.137 made it lazy, see `app.dependency_overrides`.
    `tests/service/test_openapi.py` checks that the OpenAPI document is the one
    include_router gives, so an option FastAPI adds cannot be lost silently."""
    for route in router.routes:
        if isinstance(route, APIRoute):
            app.router.add_api_route(
                prefix + route.path,
                route.endpoint,
                responses={**(responses or {}), **route.responses},
                **{name: getattr(route, name) for name in _ROUTE_OPTIONS},
            )
        elif isinstance(route, APIWebSocketRoute):
            app.router.add_api_websocket_route(
                prefix + route.path,
                route.endpoint,
                name=route.name,
                dependencies=route.dependencies,
            )
        else:
            raise TypeError(f"add_routes: {route!r} is neither an APIRoute nor a WebSocket route")


def include_api(app: FastAPI) -> None:
    for router, errors in API_ROUTERS:
        add_routes(app, router, prefix=API_PREFIX, responses=errors)
