"""Database operations on users and items (idempotency keys: app.idempotency)."""

from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.security import hash_password
from app.models import Item, User
from app.schemas import ItemCreate


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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
    await session.commit()
    return created


_ITEM_BY_ID = select(Item.__table__).where(Item.__table__.c.id == bindparam("item_id"))


async def read_item(session: AsyncSession, item_id: int) -> Row | None:
    """One item's columns. A Core select: loading an ORM instance (identity map, state
    tracking) for a row that is only serialized cost a fifth of the read route's
    throughput (loadtest/README.md)."""
    return (await session.execute(_ITEM_BY_ID, {"item_id": item_id})).first()


async def list_items(
    session: AsyncSession, *, limit: int, offset: int, name_prefix: str | None, tag: str | None
) -> tuple[list[Item], int]:
    conditions = []
    if name_prefix:
        conditions.append(Item.name.like(_escape_like(name_prefix) + "%", escape="\\"))
    if tag:
        conditions.append(Item.tags.contains([tag]))
    total = await session.scalar(select(func.count()).select_from(Item).where(*conditions))
    rows = await session.scalars(
        select(Item).where(*conditions).order_by(Item.id).limit(limit).offset(offset)
    )
    return list(rows), total or 0


async def create_item(session: AsyncSession, data: ItemCreate) -> Item:
    item = Item(**data.model_dump())
    session.add(item)
    await session.flush()
    await session.refresh(item)
    return item


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


async def delete_item(session: AsyncSession, item_id: int) -> bool:
    item = await session.get(Item, item_id)
    if item is None:
        return False
    await session.delete(item)
    await session.commit()
    return True
