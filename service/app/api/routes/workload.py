"""Endpoints without database work, used by the load tests and the nginx WebSocket check."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

router = APIRouter(tags=["workload"])


@router.get("/ping")
async def ping() -> dict[str, bool]:
    return {"pong": True}


@router.get("/slow")
async def slow(ms: Annotated[int, Query(ge=0, le=10_000)] = 100) -> dict[str, int]:
    """Stands in for a call to a slow downstream service."""
    await asyncio.sleep(ms / 1000)
    return {"slept_ms": ms}


@router.websocket("/ws/echo")
async def echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
