"""The Host check remembers the values it accepted; what it remembers never lets another
value through, and a client sending ever new accepted values cannot grow it without bound."""

import asyncio

from app.middleware.trusted_host import ACCEPTED_KEPT, TrustedHostMiddleware


async def answer_ok(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def status_for(middleware: TrustedHostMiddleware, host: bytes) -> int:
    sent = []

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": "/api/v1/items", "method": "GET",
             "headers": [(b"host", host)]}  # fmt: skip
    asyncio.run(middleware(scope, receive, send))
    return sent[0]["status"]


def test_a_remembered_host_does_not_admit_others():
    middleware = TrustedHostMiddleware(answer_ok, hosts=["api.example.com"], exempt_paths=[])
    for _ in range(2):
        assert status_for(middleware, b"api.example.com") == 200
        assert status_for(middleware, b"api.example.com:443") == 200
    for host in (b"evil.example", b"api.example.com.evil.example", b"api.example.com:x", b""):
        assert status_for(middleware, host) == 400, host


def test_what_is_remembered_is_bounded():
    middleware = TrustedHostMiddleware(answer_ok, hosts=["*.example.com"], exempt_paths=[])
    hosts = [f"tenant{n}.example.com".encode() for n in range(ACCEPTED_KEPT * 3)]
    assert all(status_for(middleware, host) == 200 for host in hosts)
    assert all(status_for(middleware, host) == 200 for host in hosts)
    assert len(middleware._accepted) == ACCEPTED_KEPT
    assert status_for(middleware, b"example.com") == 400
