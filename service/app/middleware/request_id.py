import random
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import request_id_var

HEADER = b"x-request-id"
# A client-supplied id ends up in logs: accept only short, printable tokens.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Takes the caller's X-Request-ID (or makes one), logs it, and echoes it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)

        request_id = None
        for name, value in scope["headers"]:
            if name == HEADER:
                supplied = value.decode("latin-1")
                if _VALID_ID.match(supplied):
                    request_id = supplied
                break
        if request_id is None:
            # A correlation id, not a secret: the process's own generator (reseeded in each
            # forked worker) rather than a getrandom() system call per request.
            request_id = f"{random.getrandbits(128):032x}"
        request_id_var.set(request_id)
        header = (HEADER, request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                # A problem response already carries it (app.core.problems).
                if not any(name.lower() == HEADER for name, _ in headers):
                    headers.append(header)
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
