"""What each request costs PostgreSQL, counted from the server's own statement log: every
statement there is one round trip of the service's connection."""

import concurrent.futures

import httpx
import pytest

from harness.service import ServiceProcess
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, create_admin

API = "/api/v1"


@pytest.fixture(scope="module")
def service(postgres):
    name = "round_trips"
    url = postgres.create_database(name, "items_template")
    postgres.log_statements(name)
    create_admin(url)
    process = ServiceProcess(url, workers=1).start()
    try:
        yield process, name
    finally:
        process.close()


@pytest.fixture(scope="module")
def http(service):
    process, _ = service
    with httpx.Client(base_url=process.url + API, timeout=30) as client:
        token = client.post(
            "/auth/token", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def statements(postgres, service, request) -> tuple[httpx.Response, list[str]]:
    _, database = service
    found: list[str] = []
    with postgres.statements_of(database, "items-api", found):
        response = request()
    return response, found


def verbs(found: list[str]) -> list[str]:
    return [" ".join(statement.split()[:2]).rstrip(";").upper() for statement in found]


def test_each_request_costs_only_the_statements_it_needs(postgres, service, http):
    # Once each first: a statement's first use on a connection also prepares it.
    item = http.post("/items", json={"name": "warm", "price": "1.00"}).json()
    http.get(f"/items/{item['id']}")
    http.get("/items", params={"limit": 5})

    response, read = statements(postgres, service, lambda: http.get(f"/items/{item['id']}"))
    assert response.status_code == 200
    assert verbs(read) == ["SELECT ITEMS.ID,"], read

    response, listed = statements(postgres, service, lambda: http.get("/items?limit=5"))
    assert response.status_code == 200
    assert len(listed) == 1, listed

    # One INSERT that checks the token's user too: no BEGIN/COMMIT, no separate SELECT.
    response, created = statements(
        postgres, service, lambda: http.post("/items", json={"name": "one", "price": "2.00"})
    )
    assert response.status_code == 201
    assert verbs(created) == ["INSERT INTO"], created

    response, deleted = statements(
        postgres, service, lambda: http.delete(f"/items/{response.json()['id']}")
    )
    assert response.status_code == 204
    assert verbs(deleted) == ["SELECT USERS.ID,", "DELETE FROM"], deleted


def test_idempotent_create_is_one_transaction(postgres, service, http):
    response, created = statements(
        postgres,
        service,
        lambda: http.post(
            "/items", json={"name": "keyed", "price": "3.00"}, headers={"Idempotency-Key": "k1"}
        ),
    )
    assert response.status_code == 201
    kinds = verbs(created)
    # The token's user outside, then the key's claim, the item and the stored answer inside.
    assert kinds[:2] == ["SELECT USERS.ID,", "BEGIN"], created
    assert kinds[-1] == "COMMIT", created
    assert kinds.count("BEGIN") == 1, created
    assert kinds.count("INSERT INTO") == 2, created


def test_concurrent_deletes_of_one_item_give_one_204(service, http):
    process, _ = service
    item = http.post("/items", json={"name": "contested", "price": "4.00"}).json()
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        statuses = sorted(
            pool.map(lambda _: http.delete(f"/items/{item['id']}").status_code, range(10))
        )
    assert statuses == [204] + [404] * 9
    assert "were matched" not in process.log()
