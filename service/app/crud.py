"""Database operations on users and items (idempotency keys: app.idempotency). The caller
owns the transaction."""

from dataclasses import dataclass
from functools import cache

from asyncpg import Connection, Record
from sqlalchemy import String, bindparam, delete, func, select, update
from sqlalchemy.dialects.postgresql import array, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import hash_password
from app.models import Item, User
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
# The list filters, each with the index that serves it (alembic 0002): keyset on the primary
# key; `^@` (starts_with) on the SP-GiST index of name, which, unlike LIKE, a prepared
# statement's generic plan can use; `@>` on the GIN index of tags.
_LIST_FILTERS = {
    "after": _items.c.id > bindparam("after"),
    "name_prefix": _items.c.name.op("^@")(bindparam("name_prefix", type_=String)),
    "tag": _items.c.tags.contains(array([bindparam("tag", type_=String)])),
}


@cache
def _list_statement(filters: tuple[str, ...]) -> Statement:
    return Statement.of(
        select(_items)
        .where(*(_LIST_FILTERS[name] for name in filters))
        .order_by(_items.c.id)
        .limit(bindparam("limit"))
    )


async def read_item(connection: Connection, item_id: int) -> Record | None:
    return await connection.fetchrow(_ITEM_BY_ID.sql, item_id)


async def active_user(connection: Connection, user_id: int) -> Record | None:
    return await connection.fetchrow(_ACTIVE_USER.sql, user_id)


async def list_items(
    connection: Connection,
    *,
    limit: int,
    after: int | None,
    name_prefix: str | None,
    tag: str | None,
) -> list[Record]:
    """Up to `limit` items with ids above `after`, in id order: a page costs its rows, not the
    rows before it, and nothing counts the whole table."""
    values = {"after": after, "name_prefix": name_prefix, "tag": tag}
    statement = _list_statement(tuple(name for name in _LIST_FILTERS if values[name] is not None))
    return await connection.fetch(statement.sql, *statement.args(**values, limit=limit))


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
