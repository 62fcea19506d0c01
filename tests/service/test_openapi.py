"""The OpenAPI document describes what the service really answers: a client generated from it
meets no status, media type or header it was not told about."""

import pytest

from tests.conftest import make_settings

PROBLEM = "application/problem+json"
DATABASE_DOWN = "postgresql+asyncpg://unused@127.0.0.1:1/unused"


@pytest.fixture(scope="module")
def document() -> dict:
    from app.main import create_app

    return create_app(make_settings(DATABASE_DOWN)).openapi()


def operations(document: dict, prefix: str = "/api/v1/"):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            if path.startswith(prefix):
                yield f"{method.upper()} {path}", operation["responses"]


def test_the_routes_are_declared_as_include_router_declares_them(document, monkeypatch):
    """The app puts its routers' routes on its own router (app.api.main.add_routes) rather
    than including the routers; every option of every operation must survive the copy."""
    import app.api.main
    import app.main

    def include(app_, router, prefix="", responses=None):
        app_.include_router(router, prefix=prefix, responses=responses)

    monkeypatch.setattr(app.api.main, "add_routes", include)
    monkeypatch.setattr(app.main, "add_routes", include)
    assert app.main.create_app(make_settings(DATABASE_DOWN)).openapi() == document


def test_every_error_is_a_problem_document(document):
    assert "Problem" in document["components"]["schemas"]
    for name, responses in operations(document, "/"):
        for status, response in responses.items():
            if int(status) >= 400:
                assert set(response["content"]) == {PROBLEM}, (name, status)
                schema = response["content"][PROBLEM]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}, (name, status)


def required_headers(response: dict) -> set[str]:
    return {name for name, header in response.get("headers", {}).items() if header["required"]}


def test_every_api_operation_documents_host_method_validation_and_rate_limit_errors(document):
    for name, responses in operations(document):
        assert {"400", "405", "422", "429"} <= set(responses), name
        assert required_headers(responses["405"]) == {"Allow"}, name
        assert required_headers(responses["429"]) == {"Retry-After"}, name


def test_database_operations_document_503_with_retry_after(document):
    with_database = {name for name, responses in operations(document) if "503" in responses}
    assert with_database == {
        "GET /api/v1/items", "POST /api/v1/items", "GET /api/v1/items/{item_id}",
        "PATCH /api/v1/items/{item_id}", "DELETE /api/v1/items/{item_id}",
        "POST /api/v1/auth/token",
    }  # fmt: skip
    for name, responses in operations(document):
        if name in with_database:
            assert required_headers(responses["503"]) == {"Retry-After"}, name


def test_login_documents_its_rate_limit_and_credentials_errors(document):
    responses = document["paths"]["/api/v1/auth/token"]["post"]["responses"]
    assert required_headers(responses["429"]) == {"Retry-After"}
    assert required_headers(responses["401"]) == {"WWW-Authenticate"}


def test_the_documented_headers_come_with_the_real_answers(
    document, client, postgres, database_url
):
    items = document["paths"]["/api/v1/items"]["get"]["responses"]
    answers = {
        "405": client.put("/api/v1/items"),
        "401": client.post("/api/v1/items", json={}),
        "400": client.get("/api/v1/items", headers={"Host": "evil.example"}),
        "422": client.get("/api/v1/items", params={"tag": "a\x00"}),
    }
    name = database_url.rsplit("/", 1)[1]
    postgres.psql(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
    postgres.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}'")
    answers["503"] = client.get("/api/v1/items")
    for status, response in answers.items():
        assert str(response.status_code) == status, response.text
        assert response.headers["content-type"] == PROBLEM
        headers = {header.lower() for header in required_headers(items[status])}
        assert headers <= set(response.headers), (status, response.headers)
    assert int(answers["503"].headers["retry-after"]) > 0
