"""Reference apps for the benchmark: the same answers as the service, without its stack.

- `minimal`: a bare ASGI callable, the most the server stack (gunicorn + uvicorn) can do;
- `bare`: FastAPI with one route and no middleware;
- `raw_db`: FastAPI reading an item with a raw asyncpg pool: no ORM, no session, no
  middleware, the same pool size as the service's and the same JSON.

Served the way the service is: `gunicorn -k uvicorn_worker.UvicornWorker loadtest.benchapps:bare`.
"""

import os
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, HTTPException

PONG = b'{"pong":true}'
ITEM_QUERY = (
    "SELECT id, name, description, price, in_stock, tags, created_at, updated_at "
    "FROM items WHERE id = $1"
)


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
    # The service's DATABASE_URL, in the form asyncpg takes; pool as DB_POOL_SIZE + overflow.
    url = os.environ["DATABASE_URL"].replace("postgresql+asyncpg://", "postgresql://", 1)
    app.state.pool = await asyncpg.create_pool(url, min_size=5, max_size=10)
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


@raw_db.get("/readyz")
async def raw_ready() -> dict[str, str]:
    return {"status": "ok"}
