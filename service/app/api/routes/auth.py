from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, status
from starlette.concurrency import run_in_threadpool

from app import crud
from app.api.deps import SessionDep, SettingsDep
from app.core.security import create_access_token, verify_password
from app.schemas import LoginForm, Token

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/token")
async def login_for_access_token(
    session: SessionDep,
    settings: SettingsDep,
    form: Annotated[LoginForm, Form()],
) -> Token:
    user = await crud.get_user_by_email(session, form.username)
    hashed = user.hashed_password if user else None
    active = user is not None and user.is_active
    user_id = user.id if user else None
    # argon2 is deliberately slow: hand the connection back to the pool first, and verify off
    # the event loop, so a burst of logins starves neither the pool nor other requests.
    await session.close()
    valid = await run_in_threadpool(verify_password, form.password, hashed)
    if not valid or not active:
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="Incorrect email or password.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    token = create_access_token(
        str(user_id), settings.JWT_SECRET.get_secret_value(), settings.ACCESS_TOKEN_EXPIRE_MINUTES
    )
    return Token(access_token=token)
