"""The access log names each request by the full template of the route that served it,
through included routers and their prefixes, for a 405 too; unrouted requests stay unnamed."""

import json
import logging

import pytest
from app.middleware.access_log import AccessLogMiddleware
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

items = APIRouter(prefix="/items")


@items.get("/{item_id}")
def read_item(item_id: int) -> dict:
    return {"id": item_id}


@items.post("")
def create_item() -> dict:
    return {}


def tiny_app() -> FastAPI:
    app = FastAPI()
    api = APIRouter(prefix="/api/v1")
    api.include_router(items)
    app.include_router(api)

    @app.get("/version")
    def version() -> dict:
        return {}

    app.add_middleware(AccessLogMiddleware, routes=app.routes, exclude_paths=["/livez"])
    return app


def access_lines(err: str) -> list[dict]:
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "app.access"]


@pytest.fixture
def routes_logged(caplog, capsys):
    caplog.set_level(logging.INFO, logger="app.access")
    client = TestClient(tiny_app())

    def request(method: str, path: str) -> tuple[int, list[str]]:
        capsys.readouterr()
        status = client.request(method, path).status_code
        return status, [line["route"] for line in access_lines(capsys.readouterr().err)]

    return request


@pytest.mark.parametrize(
    ("method", "path", "status", "route"),
    [
        ("GET", "/api/v1/items/7", 200, "/api/v1/items/{item_id}"),
        ("GET", "/api/v1/items/seven", 422, "/api/v1/items/{item_id}"),
        ("DELETE", "/api/v1/items/7", 405, "/api/v1/items/{item_id}"),
        ("POST", "/api/v1/items", 200, "/api/v1/items"),
        ("GET", "/version", 200, "/version"),
        ("GET", "/api/v1/nothing", 404, "<unmatched>"),
    ],
)
def test_each_request_is_named_by_its_full_route_template(
    routes_logged, method, path, status, route
):
    assert routes_logged(method, path) == (status, [route])


def test_excluded_paths_are_not_logged(routes_logged):
    assert routes_logged("GET", "/livez") == (404, [])


def test_the_line_follows_the_log_level(caplog, capsys):
    client = TestClient(tiny_app())
    caplog.set_level(logging.WARNING, logger="app.access")
    client.get("/version")
    assert access_lines(capsys.readouterr().err) == []
    caplog.set_level(logging.INFO, logger="app.access")
    client.get("/version")
    [line] = access_lines(capsys.readouterr().err)
    assert list(line) == ["ts", "level", "logger", "msg", "method", "route", "status",
                          "duration_ms", "client_ip", "scheme"]  # fmt: skip
    assert (line["level"], line["msg"], line["status"]) == ("INFO", "request", 200)
