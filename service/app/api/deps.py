"""Dependencies shared by the routes."""

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.security import decode_access_token
from app.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail=detail,
        headers={"WWW-Authenticate": "Bearer"},
    )


# users.id is a PostgreSQL integer (int4): a larger id is no user, not a driver error.
USER_ID_MAX = 2**31 - 1
_USER_ID = re.compile(r"[1-9][0-9]{0,9}")


def user_id_from_subject(subject: object) -> int | None:
    """The user id a token's `sub` names: ASCII digits in the column's range, else None."""
    if not isinstance(subject, str) or not _USER_ID.fullmatch(subject):
        return None
    user_id = int(subject)
    return user_id if user_id <= USER_ID_MAX else None


async def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> User:
    if not token:
        raise _unauthorized("Not authenticated.")
    user_id = user_id_from_subject(
        decode_access_token(token, settings.JWT_SECRET.get_secret_value())
    )
    user = await session.get(User, user_id) if user_id is not None else None
    if user is None or not user.is_active:
        raise _unauthorized("The token is invalid or expired.")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
