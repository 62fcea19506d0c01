"""Password hashing (argon2) and short-lived access tokens (JWT, HS256 only)."""

from datetime import UTC, datetime, timedelta
from functools import cache

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

ALGORITHM = "HS256"
_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    # Verifying against a real hash when the user does not exist keeps the response time the
    # same, so the token endpoint does not reveal which emails have accounts. Made on first
    # use: hashing at import would add to every worker's start time.
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    try:
        return _hasher.verify(hashed or _dummy_hash(), password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def create_access_token(subject: str, secret: str, expires_minutes: int) -> str:
    now = datetime.now(UTC)
    claims = {"sub": subject, "iat": now, "exp": now + timedelta(minutes=expires_minutes)}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def decode_access_token(token: str, secret: str) -> str | None:
    """The token's subject, or None when it is forged, expired or uses another algorithm."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError:
        return None
    return claims["sub"]
