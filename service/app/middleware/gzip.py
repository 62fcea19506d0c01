from starlette.middleware import gzip
from starlette.types import ASGIApp, Receive, Scope, Send


class GZipMiddleware:
    """Starlette's GZip middleware, entered only by requests that accept gzip.

    Starlette's wraps every response, parsing its headers and content type even when the
    client takes no gzip (wrk, curl, most service-to-service clients): work on every small
    request for nothing. Such a client gets the response untouched, without the
    `Vary: Accept-Encoding` Starlette adds to large ones: a cache may then hand an
    uncompressed copy to a gzip client, never a compressed one to a client without gzip.
    """

    def __init__(self, app: ASGIApp, *, minimum_size: int) -> None:
        self.app = app
        self.gzip = gzip.GZipMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"accept-encoding":
                    if b"gzip" in value:
                        return await self.gzip(scope, receive, send)
                    break
        await self.app(scope, receive, send)
