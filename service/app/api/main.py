from fastapi import APIRouter, FastAPI

from app.api.routes import auth, items, workload
from app.core.problems import API_ERRORS, AUTH_ERRORS, CONFLICT_ERRORS, DATABASE_ERRORS

API_PREFIX = "/api/v1"
# Busiest first. Each router is included on the app itself rather than under one parent
# router: FastAPI matches a nested router's routes twice per request, which measurably cut
# throughput (loadtest/README.md, "What moved the ratios").
# Each with the errors its operations can answer (OpenAPI).
API_ROUTERS: tuple[tuple[APIRouter, dict], ...] = (
    (items.router, {**API_ERRORS, **AUTH_ERRORS, **DATABASE_ERRORS, **CONFLICT_ERRORS}),
    (workload.router, API_ERRORS),
    (auth.router, {**API_ERRORS, **AUTH_ERRORS, **DATABASE_ERRORS}),
)


def include_api(app: FastAPI) -> None:
    for router, errors in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=errors)
