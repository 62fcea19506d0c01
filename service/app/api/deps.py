"""Dependencies shared by the routes."""

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app import crud
from app.core.config import Settings
from app.core.db import Database
from app.core.security import decode_access_token
from app.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Plain functions as dependencies run in the threadpool: each one a thread hop per request.
async def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


async def get_database(request: Request) -> Database:
    return request.app.state.database


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
DatabaseDep = Annotated[Database, Depends(get_database)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


# users.id is a PostgreSQL integer (int4): a larger id is no user, not a driver error.
USER_ID_MAX = 2**31 - 1
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")
INVALID_TOKEN = "The token is invalid or expired."  # noqa: S105 - a message, not a secret


def user_id_from_subject(subject: object) -> int | None:
    """The user id a token's `sub` names: ASCII digits in the column's range, else None."""
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
        return None
    user_id = int(subject)
    return user_id if user_id <= USER_ID_MAX else None


async def get_token_user_id(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> int:
    """The user id a validly signed, unexpired token names; whether that user still exists
    and is active is for the statement that acts on it to check (or get_current_user)."""
    if not token:
        raise _unauthorized("Not authenticated.")
    user_id = user_id_from_subject(
        decode_access_token(token, settings.JWT_SECRET.get_secret_value())
    )
    if user_id is None:
        raise _unauthorized(INVALID_TOKEN)
    return user_id


TokenUserId = Annotated[int, Depends(get_token_user_id)]


def unauthorized_user() -> HTTPException:
    return _unauthorized(INVALID_TOKEN)


async def get_current_user(db: DatabaseDep, user_id: TokenUserId) -> User:
    """The token's user, if still active: one SELECT, outside any transaction."""
    row = await db.read(lambda connection: crud.active_user(connection, user_id))
    if row is None:
        raise _unauthorized(INVALID_TOKEN)
    # Detached: routes read its columns; nothing loads or writes through it.
    return User(id=row["id"], email=row["email"], is_superuser=row["is_superuser"], is_active=True)


CurrentUser = Annotated[User, Depends(get_current_user)]
