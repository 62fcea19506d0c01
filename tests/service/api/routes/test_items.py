import json
import threading

import pytest

ITEM = {"name": "Widget", "description": "A widget", "price": "12.50", "tags": ["tools", "blue"]}


def create(client, headers, **fields):
    response = client.post("/api/v1/items", json={**ITEM, **fields}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    return body


def test_item_round_trip(client, auth_headers):
    created = create(client, auth_headers, name="  Widget  ")
    assert created["name"] == "Widget"
    assert created["price"] == "12.50"
    assert created["in_stock"] is True

    fetched = client.get(f"/api/v1/items/{created['id']}").json()
    assert fetched == created

    patched = client.patch(
        f"/api/v1/items/{created['id']}", json={"price": 9.99, "in_stock": False},
        headers=auth_headers,
    ).json()  # fmt: skip
    assert (patched["price"], patched["in_stock"], patched["name"]) == ("9.99", False, "Widget")
    assert patched["updated_at"] >= created["updated_at"]

    assert client.delete(f"/api/v1/items/{created['id']}", headers=auth_headers).status_code == 204
    assert_problem(client.get(f"/api/v1/items/{created['id']}"), 404)
    assert_problem(client.delete(f"/api/v1/items/{created['id']}", headers=auth_headers), 404)


def test_list_pages_filters_and_orders_stably(client, auth_headers):
    for index in range(5):
        create(client, auth_headers, name=f"bolt-{index}", tags=["hardware"])
    create(client, auth_headers, name="nut_1", tags=["hardware", "small"])
    create(client, auth_headers, name="boltless", tags=[])

    assert pages_of(client, limit=3) == [
        ["bolt-0", "bolt-1", "bolt-2"], ["bolt-3", "bolt-4", "nut_1"], ["boltless"]
    ]  # fmt: skip
    # A full last page says so too: no request for an empty page.
    exact = client.get("/api/v1/items", params={"limit": 7}).json()
    assert (len(exact["items"]), exact["next_cursor"]) == (7, None)

    bolts = client.get("/api/v1/items", params={"name_prefix": "bolt-"}).json()
    assert [item["name"] for item in bolts["items"]] == [f"bolt-{i}" for i in range(5)]
    # LIKE wildcards in the prefix are literal characters.
    assert client.get("/api/v1/items", params={"name_prefix": "nut%"}).json()["items"] == []
    assert len(client.get("/api/v1/items", params={"name_prefix": "nut_"}).json()["items"]) == 1

    small = client.get("/api/v1/items", params={"tag": "small"}).json()
    assert [item["name"] for item in small["items"]] == ["nut_1"]


def pages_of(client, **params) -> list[list[str]]:
    """The names on each page of a listing, following next_cursor to the end."""
    pages = []
    while True:
        page = client.get("/api/v1/items", params=params).json()
        pages.append([item["name"] for item in page["items"]])
        if page["next_cursor"] is None:
            return pages
        params["cursor"] = page["next_cursor"]


def test_a_prefix_list_pages_in_name_order(client, auth_headers):
    for name in ("bolt-é", "bolt-b", "bolt-Z", "bolt-a", "bolts", "bolt-", "bolt-\U0010ffff"):
        create(client, auth_headers, name=name)
    # Code point order: "Z" before "a", "é" after every ASCII letter.
    assert pages_of(client, name_prefix="bolt-", limit=2) == [
        ["bolt-", "bolt-Z"], ["bolt-a", "bolt-b"], ["bolt-é", "bolt-\U0010ffff"]
    ]  # fmt: skip
    assert pages_of(client, name_prefix="bolt-\U0010ffff") == [["bolt-\U0010ffff"]]


def test_a_tag_list_follows_every_write_of_the_tags(client, auth_headers):
    first = create(client, auth_headers, name="first", tags=["red", "blue"])
    second = create(client, auth_headers, name="second", tags=["red"])
    assert pages_of(client, tag="red", limit=1) == [["first"], ["second"]]
    client.patch(f"/api/v1/items/{first['id']}", json={"tags": ["blue"]}, headers=auth_headers)
    assert pages_of(client, tag="red") == [["second"]]
    assert pages_of(client, tag="blue") == [["first"]]
    client.patch(f"/api/v1/items/{first['id']}", json={"price": "2.00"}, headers=auth_headers)
    assert pages_of(client, tag="blue") == [["first"]]
    client.delete(f"/api/v1/items/{second['id']}", headers=auth_headers)
    assert pages_of(client, tag="red") == [[]]


def test_a_cursor_from_another_listing_is_refused(client, auth_headers):
    for index in range(3):
        create(client, auth_headers, name=f"nail-{index}")
    by_id = client.get("/api/v1/items", params={"limit": 1}).json()["next_cursor"]
    by_name = client.get("/api/v1/items", params={"limit": 1, "name_prefix": "nail"}).json()
    problem = assert_problem(
        client.get("/api/v1/items", params={"cursor": by_id, "name_prefix": "nail"}), 422
    )
    assert "cursor" in problem["detail"]
    assert_problem(client.get("/api/v1/items", params={"cursor": by_name["next_cursor"]}), 422)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"cursor": -1},
        {"cursor": "x"},
        {"cursor": str(2**63)},
        {"cursor": "١٢"},  # digits, but not ASCII ones
        {"cursor": ""},
        {"cursor": "n!!"},
        {"cursor": "nAA", "name_prefix": "a"},  # a NUL: not text
        {"cursor": "n/w", "name_prefix": "a"},  # not UTF-8
        {"cursor": "n" + "A" * 600, "name_prefix": "a"},
        {"limit": "ten"},
        {"name_prefix": ""},
    ],
)
def test_list_rejects_out_of_range_paging(client, params):
    assert_problem(client.get("/api/v1/items", params=params), 422)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ITEM, "price": 0}, "price"),
        ({**ITEM, "price": "-1.00"}, "price"),
        ({**ITEM, "price": "1.234"}, "price"),
        ({**ITEM, "price": "lots"}, "price"),
        ({**ITEM, "name": "   "}, "name"),
        ({**ITEM, "name": "x" * 101}, "name"),
        ({**ITEM, "description": "x" * 2001}, "description"),
        ({**ITEM, "tags": ["has space"]}, "tags"),
        ({**ITEM, "tags": "tools"}, "tags"),
        ({**ITEM, "in_stock": "perhaps"}, "in_stock"),
        ({**ITEM, "colour": "red"}, "colour"),
        ({"description": "no name"}, "name"),
    ],
)
def test_create_rejects_bad_fields_naming_them(client, auth_headers, body, field):
    problem = assert_problem(client.post("/api/v1/items", json=body, headers=auth_headers), 422)
    assert field in {str(part) for error in problem["errors"] for part in error["loc"]}


def test_malformed_json_is_a_422_problem(client, auth_headers):
    response = client.post(
        "/api/v1/items", content=b'{"name": "x", ', headers={**auth_headers,
        "Content-Type": "application/json"},
    )  # fmt: skip
    assert_problem(response, 422)


def test_duplicate_name_is_409(client, auth_headers):
    create(client, auth_headers, name="Unique")
    body = assert_problem(
        client.post("/api/v1/items", json={**ITEM, "name": "Unique"}, headers=auth_headers), 409
    )
    assert "Unique" in body["detail"]
    other = create(client, auth_headers, name="Other")
    assert_problem(
        client.patch(f"/api/v1/items/{other['id']}", json={"name": "Unique"}, headers=auth_headers),
        409,
    )


def test_patch_rejects_nulls_for_required_fields(client, auth_headers):
    item = create(client, auth_headers)
    response = client.patch(
        f"/api/v1/items/{item['id']}", json={"price": None}, headers=auth_headers
    )
    assert_problem(response, 422)
    cleared = client.patch(
        f"/api/v1/items/{item['id']}", json={"description": None}, headers=auth_headers
    )
    assert cleared.json()["description"] is None


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/items", ITEM),
        ("PATCH", "/api/v1/items/1", {"price": "1.00"}),
        ("DELETE", "/api/v1/items/1", None),
    ],
)
def test_every_write_needs_a_token(client, method, path, body):
    response = client.request(method, path, json=body)
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_dependency_override_on_the_app_reaches_the_api_routes(client):
    """The API's routes are the app's own (app.api.main.add_routes), so an embedding app or its
    tests can override a dependency on the app, as FastAPI documents: here, the token check."""
    from app.api.deps import get_token_user_id

    client.app.dependency_overrides[get_token_user_id] = lambda: 1  # the admin, the only user
    try:
        response = client.post("/api/v1/items", json=ITEM)
    finally:
        client.app.dependency_overrides.clear()
    assert response.status_code == 201, response.text


def test_idempotent_create_returns_first_result_and_creates_one_row(client, auth_headers):
    headers = {**auth_headers, "Idempotency-Key": "order-42"}
    first = client.post("/api/v1/items", json=ITEM, headers=headers)
    again = client.post("/api/v1/items", json=ITEM, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(client.get("/api/v1/items").json()["items"]) == 1

    changed = client.post("/api/v1/items", json={**ITEM, "name": "Other"}, headers=headers)
    assert_problem(changed, 422)
    assert len(client.get("/api/v1/items").json()["items"]) == 1


def test_concurrent_idempotent_creates_make_one_row(client, auth_headers):
    headers = {**auth_headers, "Idempotency-Key": "race"}
    results = []

    def post() -> None:
        results.append(client.post("/api/v1/items", json=ITEM, headers=headers))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {response.status_code for response in results} == {201}
    assert len({response.json()["id"] for response in results}) == 1
    assert len(client.get("/api/v1/items").json()["items"]) == 1


def test_concurrent_updates_of_different_fields_both_land(client, auth_headers):
    item = create(client, auth_headers)
    url = f"/api/v1/items/{item['id']}"
    changes = [{"price": f"{n}.00"} for n in range(1, 6)] + [
        {"description": f"rev {n}"} for n in range(1, 6)
    ]
    results = []
    threads = [
        threading.Thread(
            target=lambda body=body: results.append(
                client.patch(url, json=body, headers=auth_headers)
            )
        )
        for body in changes
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {response.status_code for response in results} == {200}
    final = client.get(url).json()
    assert final["price"] in {f"{n}.00" for n in range(1, 6)}
    assert final["description"] in {f"rev {n}" for n in range(1, 6)}


def test_unknown_route_and_method_are_problems(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.put("/api/v1/items"), 405)


def problem_fields(problem) -> set[str]:
    return {str(part) for error in problem["errors"] for part in error["loc"]}


# Text PostgreSQL cannot store (NUL; a lone surrogate, which JSON can spell) and text that does
# not look like what it is (line breaks, an ANSI escape, zero-width and bidi characters).
UNSTORABLE = ["a\x00b", "\ud800"]
INVISIBLE = ["two\nlines", "cr\rlf", "\x1b[31mred", "zero\u200bwidth", "rtl\u202eoverride", "\x85"]


@pytest.mark.parametrize("text", [*UNSTORABLE, *INVISIBLE])
@pytest.mark.parametrize("field", ["name", "tags"])
def test_names_and_tags_refuse_control_and_invisible_characters(client, auth_headers, field, text):
    value = [text] if field == "tags" else text
    body = json.dumps({**ITEM, field: value}).encode()  # json.dumps escapes the surrogate
    headers = {**auth_headers, "Content-Type": "application/json"}
    problem = assert_problem(client.post("/api/v1/items", content=body, headers=headers), 422)
    assert field in problem_fields(problem)
    item = create(client, auth_headers)
    patch = json.dumps({field: value}).encode()
    problem = assert_problem(
        client.patch(f"/api/v1/items/{item['id']}", content=patch, headers=headers), 422
    )
    assert field in problem_fields(problem)


@pytest.mark.parametrize("text", [*UNSTORABLE, "\x1b[2J", "\x07"])
def test_descriptions_refuse_what_postgresql_cannot_store(client, auth_headers, text):
    body = json.dumps({**ITEM, "description": f"x{text}y"}).encode()
    headers = {**auth_headers, "Content-Type": "application/json"}
    problem = assert_problem(client.post("/api/v1/items", content=body, headers=headers), 422)
    assert "description" in problem_fields(problem)


def test_descriptions_keep_line_breaks_and_tabs(client, auth_headers):
    text = "first line\r\nsecond\tline\n"
    assert create(client, auth_headers, description=text)["description"] == text


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"name_prefix": "a\x00"}, "name_prefix"),
        ({"name_prefix": "\x1b[31m"}, "name_prefix"),
        ({"tag": "a\x00"}, "tag"),
        ({"tag": "caf\u00e9"}, "tag"),
        ({"tag": "has space"}, "tag"),
    ],
)
def test_list_filters_refuse_text_a_name_or_tag_cannot_hold(client, params, field):
    problem = assert_problem(client.get("/api/v1/items", params=params), 422)
    assert field in problem_fields(problem)


def test_composed_and_decomposed_names_are_one_name(client, auth_headers):
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    created = create(client, auth_headers, name=decomposed)
    assert created["name"] == composed
    assert_problem(
        client.post("/api/v1/items", json={**ITEM, "name": composed}, headers=auth_headers), 409
    )
    found = client.get("/api/v1/items", params={"name_prefix": "cafe\u0301"}).json()
    assert [item["id"] for item in found["items"]] == [created["id"]]


@pytest.mark.parametrize(
    "tags", [["caf\u00e9"], ["\u0442\u0435\u0433"], ["\uff21"], ["dup", "dup"], ["dup", " dup "]]
)
def test_tags_are_distinct_and_ascii(client, auth_headers, tags):
    problem = assert_problem(
        client.post("/api/v1/items", json={**ITEM, "tags": tags}, headers=auth_headers), 422
    )
    assert "tags" in problem_fields(problem)


def test_a_deactivated_users_token_creates_nothing(client, auth_headers, postgres, database_url):
    create(client, auth_headers, name="before")
    postgres.psql("UPDATE users SET is_active = false", database=database_url.rsplit("/", 1)[1])
    for headers in (auth_headers, {**auth_headers, "Idempotency-Key": "after"}):
        response = client.post("/api/v1/items", json={**ITEM, "name": "after"}, headers=headers)
        assert_problem(response, 401)
    # Even a taken name is a 401, not a 409: the user is checked before the row is.
    assert_problem(
        client.post("/api/v1/items", json={**ITEM, "name": "before"}, headers=auth_headers), 401
    )
    assert [item["name"] for item in client.get("/api/v1/items").json()["items"]] == ["before"]
