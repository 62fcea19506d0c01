"""RFC 9457 problem details: the one error format for every 4xx and 5xx."""

import logging
from http import HTTPStatus

import asyncpg
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.logging import request_id_var
from app.middleware.methods import allowed_methods

PROBLEM_MEDIA_TYPE = "application/problem+json"
logger = logging.getLogger("app.errors")


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict] | None = None


def problem_response(
    status: int,
    detail: str | None = None,
    *,
    instance: str | None = None,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    request_id = request_id_var.get()
    body = Problem(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        request_id=request_id,
        errors=errors,
    ).model_dump(exclude_none=True)
    all_headers = dict(headers or {})
    if request_id:
        # 500s are sent by Starlette's outermost middleware, past our request-id middleware.
        all_headers.setdefault("X-Request-ID", request_id)
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status,
        headers=all_headers,
        media_type=PROBLEM_MEDIA_TYPE,
    )


DATABASE_RETRY_AFTER_S = 2


def problem_header(description: str, schema_type: str = "string") -> dict:
    return {"description": description, "required": True, "schema": {"type": schema_type}}


def problem(description: str, **headers: dict) -> dict:
    """An OpenAPI response: a problem document, with the headers that always come with it."""
    response: dict = {
        "description": description,
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }
    if headers:
        response["headers"] = {name.replace("_", "-"): value for name, value in headers.items()}
    return response


# What any API operation may answer besides its own results: the service's own errors, and
# the 413 and 429 nginx (in front in every deployment) answers in the same format.
API_ERRORS: dict[int | str, dict] = {
    400: problem("Bad request, or a Host header this service does not serve (TRUSTED_HOSTS)."),
    404: problem("No such resource."),
    405: problem(
        "Method not allowed; `Allow` lists every method of the path.",
        Allow=problem_header("the methods of the path, comma-separated"),
    ),
    413: problem("The body is larger than the proxy accepts."),
    422: problem("Invalid input; `errors` names each field (`loc`) and why (`msg`)."),
    429: problem(
        "Too many requests from this client (the proxy's rate limits; the token endpoint has "
        "a stricter one).",
        Retry_After=problem_header("seconds to wait before retrying", "integer"),
    ),
}
# Operations that need a bearer token or check credentials.
AUTH_ERRORS: dict[int | str, dict] = {
    401: problem(
        "Missing, invalid or expired token, or wrong credentials.",
        WWW_Authenticate=problem_header("Bearer"),
    ),
}
CONFLICT_ERRORS: dict[int | str, dict] = {
    409: problem("A conflict with stored data (a name in use, a key still in progress)."),
}
# Operations that use the database.
DATABASE_ERRORS: dict[int | str, dict] = {
    503: problem(
        "The database is unavailable; retry after Retry-After seconds.",
        Retry_After=problem_header("seconds to wait before retrying", "integer"),
    ),
}


def describe_problems(app: FastAPI) -> None:
    """Adds the Problem schema the responses above refer to to the generated document."""
    generate = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            document = generate()
            document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
                Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            )
        return app.openapi_schema

    app.openapi = openapi


DATABASE_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    # Refused and reset connections, and timeouts (TimeoutError is an OSError).
    OSError,
)


async def _http_exception(request: Request, error: StarletteHTTPException) -> JSONResponse:
    headers = error.headers
    if error.status_code == 405:
        # The router names only the first matching route's methods; list the whole path's.
        allowed = ", ".join(allowed_methods(request.app.router.routes, request.scope))
        headers = {**(headers or {}), "Allow": allowed}
    return problem_response(
        error.status_code, error.detail, instance=request.url.path, headers=headers
    )


async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    errors = [
        {"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]}
        for item in error.errors()
    ]
    return problem_response(
        422, "The request is invalid.", instance=request.url.path, errors=errors
    )


async def _database_unavailable(request: Request, error: Exception) -> JSONResponse:
    logger.warning("database unavailable", extra={"fields": {"error": type(error).__name__}})
    return problem_response(
        503,
        "The database is unavailable; retry later.",
        instance=request.url.path,
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_S)},
    )


async def _unhandled(request: Request, error: Exception) -> JSONResponse:
    logger.exception("unhandled error")
    return problem_response(500, "Internal error.", instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(StarletteHTTPException, _http_exception)
    app.add_exception_handler(RequestValidationError, _validation_error)
    for error_type in DATABASE_UNAVAILABLE:
        app.add_exception_handler(error_type, _database_unavailable)
    app.add_exception_handler(sa_exc.DBAPIError, _dbapi_error)
    app.add_exception_handler(asyncpg.PostgresError, _driver_error)
    app.add_exception_handler(asyncpg.InterfaceError, _database_unavailable)
    app.add_exception_handler(Exception, _unhandled)


# SQLSTATE classes that mean the database cannot serve right now, not a bug in the request:
# 08 connection exception, 53 insufficient resources (too many connections), 55 object not in
# prerequisite state (a database closed to connections, a lock not available), 57 operator
# intervention (statement_timeout's cancel, shutdown, "the database system is starting up").
UNAVAILABLE_SQLSTATE_CLASSES = ("08", "53", "55", "57")


async def _dbapi_error(request: Request, error: sa_exc.DBAPIError) -> JSONResponse:
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    if error.connection_invalidated or sqlstate[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
        return await _database_unavailable(request, error)
    return await _unhandled(request, error)


async def _driver_error(request: Request, error: asyncpg.PostgresError) -> JSONResponse:
    """The same split for statements run on the driver connection (app.core.db.Database)."""
    if (error.sqlstate or "")[:2] in UNAVAILABLE_SQLSTATE_CLASSES:
        return await _database_unavailable(request, error)
    return await _unhandled(request, error)
