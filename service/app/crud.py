"""Database operations on users and items (idempotency keys: app.idempotency). The caller
owns the transaction."""

from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from functools import cache

from asyncpg import Connection, Record
from sqlalchemy import String, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import hash_password
from app.models import Item, ItemTag, User
from app.schemas import ItemCreate


async def get_user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def upsert_admin(session: AsyncSession, email: str, password: str) -> bool:
    """Create the admin or reset its password; True when the user is new."""
    user = await get_user_by_email(session, email)
    created = user is None
    if user is None:
        user = User(email=email, is_superuser=True)
        session.add(user)
    user.hashed_password = hash_password(password)
    user.is_active = True
    await session.flush()
    return created


# The hot paths are single statements on the driver connection (app.core.db.Database): each
# is one round trip, and commits on its own. Only a create with an Idempotency-Key needs a
# transaction around several statements; its route owns it. Nothing here commits.
_items = Item.__table__
_users = User.__table__
_dialect = asyncpg_dialect()


@dataclass(frozen=True)
class Statement:
    """A Core statement compiled once, for asyncpg: its SQL and its parameters' order."""

    sql: str
    params: tuple[str, ...]

    @classmethod
    def of(cls, statement) -> "Statement":
        compiled = statement.compile(dialect=_dialect)
        return cls(str(compiled), tuple(compiled.positiontup or ()))

    def args(self, **values) -> list:
        return [values[name] for name in self.params]


_ITEM_BY_ID = Statement.of(select(_items).where(_items.c.id == bindparam("item_id")))
_INSERT_ITEM = Statement.of(
    insert(_items)
    .values({name: bindparam(name) for name in ItemCreate.model_fields})
    .returning(*_items.c)
)
# The token's user checked inside the INSERT: a create is one statement, one round trip; no
# row back means no active user (a taken name stays a unique violation only for an active one).
_active = select(1).where(_users.c.id == bindparam("user_id"), _users.c.is_active).exists()
_INSERT_ITEM_AS_USER = Statement.of(
    insert(_items)
    .from_select(
        list(ItemCreate.model_fields),
        select(
            *(bindparam(name, type_=_items.c[name].type) for name in ItemCreate.model_fields)
        ).where(_active),
    )
    .returning(*_items.c)
)
_DELETE_ITEM = Statement.of(
    delete(_items).where(_items.c.id == bindparam("item_id")).returning(_items.c.id)
)
_ACTIVE_USER = Statement.of(
    select(_users.c.id, _users.c.email, _users.c.is_superuser).where(
        _users.c.id == bindparam("user_id"), _users.c.is_active
    )
)
# The list: each shape walks an index in the page's order and stops when the page is full
# (alembic 0003), so a page costs its rows, at any table size and however common the filter:
# the primary key for the plain list; item_tags' (tag, item_id) for a tag; `name COLLATE "C"`
# for a name prefix, which is one range of it in code point order. A cursor is the order's
# key of the last row: an id, or for a prefix list a name.
_item_tags = ItemTag.__table__
_name = _items.c.name.collate("C")


@cache
def _list_statement(*, by_name: bool, tag: bool, after: bool, end: bool) -> Statement:
    if by_name:
        statement = select(_items).where(_name >= bindparam("name_prefix", type_=String))
        if end:
            statement = statement.where(_name < bindparam("name_end", type_=String))
        if after:
            statement = statement.where(_name > bindparam("after", type_=String))
        if tag:
            statement = statement.where(
                _items.c.tags.contains(array([bindparam("tag", type_=String)]))
            )
        statement = statement.order_by(_name)
    elif tag:
        statement = (
            select(_items)
            .select_from(_item_tags.join(_items, _items.c.id == _item_tags.c.item_id))
            .where(_item_tags.c.tag == bindparam("tag", type_=String))
            .order_by(_item_tags.c.item_id)
        )
        if after:
            statement = statement.where(_item_tags.c.item_id > bindparam("after"))
    else:
        statement = select(_items).order_by(_items.c.id)
        if after:
            statement = statement.where(_items.c.id > bindparam("after"))
    return Statement.of(statement.limit(bindparam("limit")))


def prefix_end(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix`, in code point order
    (None: no string is)."""
    for position in range(len(prefix) - 1, -1, -1):
        following = ord(prefix[position]) + 1
        if 0xD800 <= following <= 0xDFFF:  # surrogates are not text
            following = 0xE000
        if following <= 0x10FFFF:
            return prefix[:position] + chr(following)
    return None


class BadCursor(ValueError):
    """A cursor this listing did not hand out."""


_NAME_CURSOR = "n"


def encode_cursor(row: Record, *, by_name: bool) -> str:
    if by_name:
        return _NAME_CURSOR + urlsafe_b64encode(row["name"].encode()).decode().rstrip("=")
    return str(row["id"])


def decode_cursor(cursor: str, *, by_name: bool) -> int | str:
    try:
        if by_name:
            if not cursor.startswith(_NAME_CURSOR):
                raise BadCursor
            encoded = cursor.removeprefix(_NAME_CURSOR)
            raw = urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
            # b64decode skips what is not base64: only the cursor encode_cursor wrote passes.
            if urlsafe_b64encode(raw).decode().rstrip("=") != encoded or b"\x00" in raw:
                raise BadCursor
            return raw.decode()
        if not cursor.isascii() or not cursor.isdigit() or int(cursor) >= 2**63:
            raise BadCursor
        return int(cursor)
    except (BadCursor, ValueError):
        raise BadCursor(f"cursor {cursor[:40]!r} is not a next_cursor of this listing") from None


async def read_item(connection: Connection, item_id: int) -> Record | None:
    return await connection.fetchrow(_ITEM_BY_ID.sql, item_id)


async def active_user(connection: Connection, user_id: int) -> Record | None:
    return await connection.fetchrow(_ACTIVE_USER.sql, user_id)


async def list_items(
    connection: Connection,
    *,
    limit: int,
    cursor: str | None,
    name_prefix: str | None,
    tag: str | None,
) -> tuple[list[Record], str | None]:
    """Up to `limit` items after `cursor`, in id order (in name order with `name_prefix`), and
    the next page's cursor (None on the last page). Raises BadCursor."""
    by_name = name_prefix is not None
    after = None if cursor is None else decode_cursor(cursor, by_name=by_name)
    end = prefix_end(name_prefix) if by_name else None
    statement = _list_statement(
        by_name=by_name, tag=tag is not None, after=after is not None, end=end is not None
    )
    # One row more than the page tells whether another page follows, without a count.
    values = {"name_prefix": name_prefix, "name_end": end, "after": after, "tag": tag}
    rows = await connection.fetch(statement.sql, *statement.args(**values, limit=limit + 1))
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(rows[limit - 1], by_name=by_name)


async def create_item(connection: Connection, data: ItemCreate) -> Record:
    """INSERT ... RETURNING: the new row, defaults and id included, in one round trip.
    Raises asyncpg.UniqueViolationError when the name is taken."""
    return await connection.fetchrow(_INSERT_ITEM.sql, *_INSERT_ITEM.args(**data.model_dump()))


async def create_item_as(connection: Connection, user_id: int, data: ItemCreate) -> Record | None:
    """The INSERT ... RETURNING above, if `user_id` is an active user (else None)."""
    args = _INSERT_ITEM_AS_USER.args(**data.model_dump(), user_id=user_id)
    return await connection.fetchrow(_INSERT_ITEM_AS_USER.sql, *args)


async def delete_item(connection: Connection, item_id: int) -> bool:
    """One statement: of concurrent deletes of one item exactly one sees its row."""
    return await connection.fetchval(_DELETE_ITEM.sql, item_id) is not None


async def driver_connection(session: AsyncSession) -> Connection:
    """The asyncpg connection under the session's open transaction: statements on it are part
    of that transaction."""
    connection = await session.connection()
    return (await connection.get_raw_connection()).driver_connection


async def update_item(session: AsyncSession, item_id: int, changes: dict) -> Item | None:
    if not changes:
        return await session.get(Item, item_id)
    # One UPDATE of only the sent columns: concurrent PATCHes of different fields both land.
    return await session.scalar(
        update(Item)
        .where(Item.id == item_id)
        .values(**changes, updated_at=func.now())
        .returning(Item)
        .execution_options(populate_existing=True)
    )
