"""Probes and build information, outside /api/v1 (/metrics has its own listener:
app.core.metrics)."""

import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.core.db import migration_revision
from app.core.problems import (
    API_ERRORS,
    DATABASE_UNAVAILABLE,
    problem,
    problem_header,
    problem_response,
)
from app.schemas import Health, Version

router = APIRouter(tags=["operations"])
logger = logging.getLogger("app.readiness")


@router.get("/livez")
async def livez() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    responses={
        503: problem(
            "Not ready; the failing check is named.",
            X_Failing_Check=problem_header("shutdown, database or migrations"),
        )
    },
)
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    if state.shutting_down:
        return _not_ready("shutdown", "the process is shutting down")
    try:
        revision = await migration_revision(
            state.probe_engine, state.settings.READINESS_DB_TIMEOUT_S
        )
    except DATABASE_UNAVAILABLE as error:
        return _not_ready("database", f"the database did not answer ({type(error).__name__})")
    except Exception as error:  # any driver error means "not ready", never a 500
        return _not_ready("database", f"the database check failed ({type(error).__name__})")
    if revision != state.head_revision:
        return _not_ready(
            "migrations", f"database at {revision}, code expects {state.head_revision}"
        )
    return JSONResponse(
        Health(status="ok", checks={"database": "ok", "migrations": "ok"}).model_dump()
    )


def _not_ready(check: str, detail: str) -> JSONResponse:
    logger.warning("not ready", extra={"fields": {"check": check, "detail": detail}})
    response = problem_response(503, f"{check}: {detail}", instance="/readyz")
    response.headers["X-Failing-Check"] = check
    return response


@router.get("/version", responses={400: API_ERRORS[400]})
async def read_version(request: Request) -> Version:
    settings = request.app.state.settings
    return Version(version=settings.APP_VERSION, git_sha=settings.GIT_SHA)
