from datetime import UTC, datetime, timedelta

import jwt
import pytest

from harness.service import TEST_JWT_SECRET
from tests.conftest import ADMIN_EMAIL, get_token

ITEM = {"name": "Gadget", "price": "1.00"}


def post_with_token(client, token):
    return client.post("/api/v1/items", json=ITEM, headers={"Authorization": f"Bearer {token}"})


def test_token_allows_writes(client):
    assert post_with_token(client, get_token(client)).status_code == 201


@pytest.mark.parametrize(
    ("username", "password"),
    [(ADMIN_EMAIL, "wrong-password"), ("nobody@example.com", "correct-horse-battery")],
)
def test_wrong_credentials_are_401_without_saying_which(client, username, password):
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json()["detail"] == "Incorrect email or password."


def _forge(claims, key=TEST_JWT_SECRET, algorithm="HS256"):
    return jwt.encode(claims, key, algorithm=algorithm)


def _claims(**overrides):
    now = datetime.now(UTC)
    return {"sub": "1", "iat": now, "exp": now + timedelta(minutes=5), **overrides}


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(_forge(_claims(exp=datetime.now(UTC) - timedelta(seconds=1))), id="expired"),
        pytest.param(_forge(_claims(), key="another-secret-0123456789abcdef0123"), id="forged"),
        pytest.param(_forge(_claims(), key="", algorithm="none"), id="alg-none"),
        pytest.param(_forge({"sub": "1"}), id="no-expiry"),
        pytest.param(_forge(_claims(sub="999")), id="unknown-user"),
        pytest.param("not.a.jwt", id="garbage"),
    ],
)
def test_bad_tokens_are_401(client, token):
    response = post_with_token(client, token)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"


def test_rs256_token_signed_with_hs_secret_as_public_key_is_rejected(client):
    # HS/RS confusion: a token claiming RS256 must not be verified with the HMAC secret.
    header = jwt.utils.base64url_encode(b'{"alg":"RS256","typ":"JWT"}').decode()
    payload = jwt.utils.base64url_encode(
        jwt.api_jws.json.dumps({"sub": "1", "exp": 9999999999}).encode()
    ).decode()
    assert post_with_token(client, f"{header}.{payload}.c2lnbmF0dXJl").status_code == 401


PASSWORD_WITH_NUL = "correct\x00horse"  # pragma: allowlist secret - a test value, no credential


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"username": "admin\x00@example.com", "password": "x"}, "username"),
        ({"username": "admin@example.com\x1b[2J", "password": "x"}, "username"),
        ({"username": ADMIN_EMAIL, "password": PASSWORD_WITH_NUL}, "password"),
    ],
)
def test_login_refuses_text_the_database_cannot_hold_naming_the_field(client, form, field):
    response = client.post("/api/v1/auth/token", data=form)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in {str(part) for error in response.json()["errors"] for part in error["loc"]}


@pytest.mark.parametrize(
    "subject",
    [
        pytest.param(str(2**31), id="above-int4"),
        pytest.param("9" * 30, id="above-bigint"),
        pytest.param("\u0661", id="arabic-indic-digit"),
        pytest.param("\u00b2", id="superscript-two"),
        pytest.param("-1", id="negative"),
        pytest.param("01", id="leading-zero"),
        pytest.param("1\n", id="trailing-newline"),
        pytest.param("", id="empty"),
    ],
)
def test_token_subjects_are_parsed_strictly(client, subject):
    response = post_with_token(client, _forge(_claims(sub=subject)))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
