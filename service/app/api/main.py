from fastapi import APIRouter, FastAPI

from app.api.routes import auth, items, workload
from app.core.problems import PROBLEM_RESPONSES

API_PREFIX = "/api/v1"
# Busiest first. Each router is included on the app itself rather than under one parent
# router: FastAPI matches a nested router's routes twice per request, which measurably cut
# throughput (loadtest/README.md, "What moved the ratios").
API_ROUTERS: tuple[APIRouter, ...] = (items.router, workload.router, auth.router)


def include_api(app: FastAPI) -> None:
    for router in API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX, responses=PROBLEM_RESPONSES)
