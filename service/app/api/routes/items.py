from typing import Annotated

from asyncpg import UniqueViolationError
from fastapi import APIRouter, Header, HTTPException, Path, Query, Response, status
from sqlalchemy.exc import IntegrityError

from app import crud, idempotency
from app.api.deps import (
    CurrentUser,
    DatabaseDep,
    SessionDep,
    TokenUserId,
    get_current_user,
    unauthorized_user,
)
from app.core.text import Tag, line
from app.schemas import (
    CURSOR_MAX_LENGTH,
    NAME_MAX_LENGTH,
    ItemCreate,
    ItemPublic,
    ItemsPublic,
    ItemUpdate,
)

router = APIRouter(prefix="/items", tags=["items"])

# The id column is a BIGINT: a larger number is a 422 here, not a driver error (500) later.
ItemId = Annotated[int, Path(ge=-(2**63), le=2**63 - 1)]

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retries with the same key return the first response and create nothing.",
    ),
]


# OpenAPI links: what a client (and the stateful fuzzing) can do next with the item it got.
_THIS_ITEM = {"item_id": "$response.body#/id"}
_READ = {"operationId": "readItem", "parameters": _THIS_ITEM}
_UPDATE = {"operationId": "updateItem", "parameters": _THIS_ITEM}
_DELETE = {"operationId": "deleteItem", "parameters": _THIS_ITEM}
# A 204 has no body: the deleted item's id is the request's.
_READ_DELETED = {"operationId": "readItem", "parameters": {"item_id": "$request.path.item_id"}}


def _name_taken(name: str | None) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, f"An item named {name!r} already exists.")


def _not_found(item_id: int) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"Item {item_id} does not exist.")


@router.get(
    "",
    description="Items a page at a time, in id order; with `name_prefix`, in name order "
    "(by code point). Pass the page's `next_cursor` as `cursor` for the next one, with the "
    "same filters. There is no total count: counting every matching row would cost the "
    "whole table on each call.",
)
async def read_items(
    db: DatabaseDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=CURSOR_MAX_LENGTH,
            description="`next_cursor` of the previous page",
        ),
    ] = None,
    name_prefix: Annotated[
        line(max_length=NAME_MAX_LENGTH) | None, Query(description="names starting with it")
    ] = None,
    tag: Annotated[Tag | None, Query()] = None,
) -> ItemsPublic:
    try:
        rows, next_cursor = await db.read(
            lambda connection: crud.list_items(
                connection, limit=limit, cursor=cursor, name_prefix=name_prefix, tag=tag
            )
        )
    except crud.BadCursor as bad:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(bad)) from None
    # One validation call for the page: pydantic-core walks the rows without a Python-level
    # call per item.
    return ItemsPublic.model_validate(
        {"items": [dict(row) for row in rows], "limit": limit, "next_cursor": next_cursor}
    )


@router.get(
    "/{item_id}",
    operation_id="readItem",
    responses={200: {"links": {"update": _UPDATE, "delete": _DELETE}}},
)
async def read_item(db: DatabaseDep, item_id: ItemId) -> ItemPublic:
    row = await db.read(lambda connection: crud.read_item(connection, item_id))
    if row is None:
        raise _not_found(item_id)
    return ItemPublic.model_validate(dict(row))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    operation_id="createItem",
    responses={201: {"links": {"read": _READ, "update": _UPDATE, "delete": _DELETE}}},
)
async def create_item(
    db: DatabaseDep,
    user_id: TokenUserId,
    body: ItemCreate,
    idempotency_key: IdempotencyKeyHeader = None,
) -> ItemPublic:
    if not idempotency_key:
        # One statement checks the token's user and inserts; it commits on its own.
        try:
            row = await db.run(lambda connection: crud.create_item_as(connection, user_id, body))
        except UniqueViolationError:
            raise _name_taken(body.name) from None
        if row is None:
            raise unauthorized_user()
        return ItemPublic.model_validate(dict(row))
    user = await get_current_user(db, user_id)
    async with db.session() as session:
        return await _create_idempotently(session, user, body, idempotency_key)


async def _create_idempotently(session, user, body: ItemCreate, idempotency_key: str):
    """The key's claim, the item and the stored response commit together or not at all;
    this route owns that transaction."""
    fingerprint = idempotency.request_fingerprint(body)
    record = await idempotency.claim(session, user.id, idempotency_key, fingerprint)
    if record is None:
        await session.rollback()
        return await idempotency.replay(session, user.id, idempotency_key, fingerprint)
    try:
        row = await crud.create_item(await crud.driver_connection(session), body)
    except UniqueViolationError:
        await session.rollback()
        raise _name_taken(body.name) from None
    item = ItemPublic.model_validate(dict(row))
    idempotency.remember(record, status.HTTP_201_CREATED, item)
    await session.commit()
    return item


@router.patch(
    "/{item_id}",
    operation_id="updateItem",
    responses={200: {"links": {"read": _READ, "delete": _DELETE}}},
)
async def update_item(
    session: SessionDep, user: CurrentUser, item_id: ItemId, body: ItemUpdate
) -> ItemPublic:
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "price", "in_stock", "tags"):
        if field in changes and changes[field] is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field} cannot be null.")
    try:
        item = await crud.update_item(session, item_id, changes)
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise _name_taken(changes.get("name")) from None
    if item is None:
        raise _not_found(item_id)
    return ItemPublic.model_validate(item)


@router.delete(
    "/{item_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    operation_id="deleteItem",
    responses={204: {"links": {"read": _READ_DELETED}}},
)
async def delete_item(db: DatabaseDep, user: CurrentUser, item_id: ItemId) -> Response:
    if not await db.run(lambda connection: crud.delete_item(connection, item_id)):
        raise _not_found(item_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
