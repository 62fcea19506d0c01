from app.core.migrations import downgrade


def test_livez_and_readyz_are_ok(client):
    assert client.get("/livez").json() == {"status": "ok", "checks": {}}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok"}


def test_readyz_names_migrations_when_database_is_behind(client, database_url):
    downgrade(database_url, "base")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["x-failing-check"] == "migrations"
    assert response.json()["detail"].startswith("migrations:")
    assert client.get("/livez").status_code == 200


def test_version_reports_build(client):
    body = client.get("/version").json()
    assert set(body) == {"version", "git_sha"}


def test_request_id_is_echoed_or_generated(client):
    assert client.get("/livez", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    generated = client.get("/livez").headers["x-request-id"]
    assert len(generated) == 32
    # Ids that would corrupt log lines are replaced, not echoed.
    assert client.get("/livez", headers={"X-Request-ID": 'a b"c'}).headers["x-request-id"] != (
        'a b"c'
    )


def test_large_json_is_gzipped(client, auth_headers):
    for index in range(30):
        client.post(
            "/api/v1/items",
            json={"name": f"item-{index}", "price": "1.00", "description": "d" * 200},
            headers=auth_headers,
        )
    response = client.get("/api/v1/items?limit=100", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert len(response.json()["items"]) == 30


def test_workload_endpoints(client):
    assert client.get("/api/v1/ping").json() == {"pong": True}
    assert client.get("/api/v1/slow", params={"ms": 5}).json() == {"slept_ms": 5}
    with client.websocket_connect("/api/v1/ws/echo") as websocket:
        websocket.send_text("hello")
        assert websocket.receive_text() == "hello"


def test_a_database_closed_to_connections_is_a_503_problem(client, postgres, database_url):
    name = database_url.rsplit("/", 1)[1]
    postgres.psql(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS false")
    postgres.psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname='{name}'")
    response = client.get("/api/v1/items")
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/readyz").status_code == 503
    assert client.get("/livez").status_code == 200
    postgres.psql(f"ALTER DATABASE {name} WITH ALLOW_CONNECTIONS true")
    assert client.get("/api/v1/items").status_code == 200
