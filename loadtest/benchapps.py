"""Reference apps for the benchmark: the same answers as the service, without its stack.

- `minimal`: a bare ASGI callable, the most the server stack (gunicorn + uvicorn) can do;
- `bare`: FastAPI with one route and no middleware;
- `raw_db`: FastAPI with a raw asyncpg pool of the service's default size, no ORM, no
  middleware: reading an item, and creating one as the service does (the bearer token's
  signature and its user checked, then INSERT ... RETURNING), with the same JSON.

Served the way the service is: `gunicorn -k uvicorn_worker.UvicornWorker loadtest.benchapps:bare`.
"""

import os
from contextlib import asynccontextmanager
from decimal import Decimal

import asyncpg
from app.core.config import Settings
from app.core.security import decode_access_token
from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel

PONG = b'{"pong":true}'
COLUMNS = "id, name, description, price, in_stock, tags, created_at, updated_at"
ITEM_QUERY = f"SELECT {COLUMNS} FROM items WHERE id = $1"  # noqa: S608 - constants
USER_QUERY = "SELECT id FROM users WHERE id = $1 AND is_active"
INSERT_QUERY = (
    "INSERT INTO items (name, description, price, in_stock, tags) "  # noqa: S608 - constants
    f"VALUES ($1, $2, $3, $4, $5) RETURNING {COLUMNS}"
)
POOL_SIZE = Settings.model_fields["DB_POOL_SIZE"].default


async def minimal(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    headers = [(b"content-type", b"application/json"), (b"content-length", b"13")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": PONG})


bare = FastAPI(openapi_url=None)


@bare.get("/api/v1/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


@bare.get("/readyz")
async def bare_ready() -> dict[str, str]:
    return {"status": "ok"}


@asynccontextmanager
async def _pool(app: FastAPI):
    # The service's DATABASE_URL, in the form asyncpg takes; the service's default pool size.
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    app.state.pool = await asyncpg.create_pool(url, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await app.state.pool.close()


raw_db = FastAPI(openapi_url=None, lifespan=_pool)


@raw_db.get("/api/v1/items/{item_id}")
async def read_item(item_id: int) -> dict:
    row = await raw_db.state.pool.fetchrow(ITEM_QUERY, item_id)
    if row is None:
        raise HTTPException(404, f"Item {item_id} does not exist.")
    item = dict(row)
    item["price"] = str(item["price"])
    return item


class NewItem(BaseModel):
    name: str
    description: str | None = None
    price: Decimal
    in_stock: bool = True
    tags: list[str] = []


@raw_db.post("/api/v1/items", status_code=201)
async def create_item(body: NewItem, authorization: str = Header("")) -> dict:
    subject = decode_access_token(authorization.removeprefix("Bearer "), os.environ["JWT_SECRET"])
    async with raw_db.state.pool.acquire() as connection:
        if not subject or await connection.fetchval(USER_QUERY, int(subject)) is None:
            raise HTTPException(401, "The token is invalid or expired.")
        row = await connection.fetchrow(
            INSERT_QUERY, body.name, body.description, body.price, body.in_stock, body.tags
        )
    item = dict(row)
    item["price"] = str(item["price"])
    return item


@raw_db.get("/readyz")
async def raw_ready() -> dict[str, str]:
    return {"status": "ok"}
