"""Idempotency keys: a create retried with the same `Idempotency-Key` gets the first response.

A key is claimed inside the create's transaction: a concurrent request with the same key blocks
on the unique index until that transaction ends, then replays what it stored. Keys are kept
IDEMPOTENCY_RETENTION_S; `items-api purge-idempotency-keys` deletes older ones (the chart's
CronJob and `make up` run it), after which the same key creates again.
"""

import hashlib
import json
from datetime import timedelta

from fastapi import HTTPException, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import IdempotencyKey

# Rows deleted per transaction by the purge: short row locks and WAL bursts on a large backlog.
PURGE_BATCH = 5000


def request_fingerprint(body: BaseModel) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


async def claim(
    session: AsyncSession, user_id: int, key: str, fingerprint: str
) -> IdempotencyKey | None:
    """Claim the key inside the open transaction; None when an earlier request holds it."""
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(user_id=user_id, key=key, request_hash=fingerprint)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyKey.id)
    )
    return None if claimed is None else await session.get(IdempotencyKey, claimed)


def remember(record: IdempotencyKey, status_code: int, response: BaseModel) -> None:
    """Store the response in the claimed row; the caller's commit makes it visible."""
    record.response_status = status_code
    record.response_body = response.model_dump(mode="json")


async def replay(session: AsyncSession, user_id: int, key: str, fingerprint: str) -> JSONResponse:
    """The stored response for a key claimed earlier, or why there is none to give."""
    record = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if record is None or record.response_body is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "A request with this key is in progress.")
    if record.request_hash != fingerprint:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            "This Idempotency-Key was used with a different request body.",
        )
    return JSONResponse(
        record.response_body,
        status_code=record.response_status,
        headers={"Idempotent-Replayed": "true"},
    )


async def purge_expired(session: AsyncSession, retention_s: int) -> int:
    """Delete keys older than retention_s, a batch per transaction; the number deleted."""
    cutoff = func.now() - timedelta(seconds=retention_s)
    expired = (
        select(IdempotencyKey.id)
        .where(IdempotencyKey.created_at < cutoff)
        .limit(PURGE_BATCH)
        .scalar_subquery()
    )
    purged = 0
    while True:
        result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id.in_(expired)))
        await session.commit()
        purged += result.rowcount
        if result.rowcount < PURGE_BATCH:
            return purged
