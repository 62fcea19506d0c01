"""Refuses requests whose Host header is not one of TRUSTED_HOSTS.

Absolute URLs the service builds (the trailing-slash redirect of `/api/v1/items/`) take their
host from the request; with this in front, that host is always one the operator listed. Probe
and scrape paths are exempt: the kubelet and Prometheus send the pod's IP as the Host, and those
responses never contain it.
"""

import re
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.problems import problem_response

_PORT = re.compile(r":[0-9]{1,5}")
ACCEPTED_KEPT = 64


def host_name(header: str) -> str | None:
    """The name in a Host header value, lower-cased, without port or trailing dot; None when
    the value is malformed."""
    value = header.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, port = value[1:end], value[end + 1 :]
    else:
        name, colon, port = value.partition(":")
        port = colon + port
    if port and not _PORT.fullmatch(port):
        return None
    return name.rstrip(".") or None


class TrustedHosts:
    """Exact names and `*.domain` patterns (any name below the domain, not the domain itself)."""

    def __init__(self, hosts: Iterable[str]) -> None:
        hosts = [host.lower().rstrip(".") for host in hosts]
        self.names = frozenset(host for host in hosts if not host.startswith("*."))
        self.suffixes = tuple(host[1:] for host in hosts if host.startswith("*."))

    def __contains__(self, name: str | None) -> bool:
        if not name:
            return False
        return name in self.names or any(
            name.endswith(suffix) and len(name) > len(suffix) for suffix in self.suffixes
        )


class TrustedHostMiddleware:
    def __init__(self, app: ASGIApp, *, hosts: Iterable[str], exempt_paths: Iterable[str]) -> None:
        self.app = app
        self.trusted = TrustedHosts(hosts)
        self.exempt_paths = frozenset(exempt_paths)
        # Host header values already accepted: clients send the same few on every request.
        # Only accepted ones are kept, and at most ACCEPTED_KEPT, since a client picks them.
        self._accepted: set[bytes] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or scope["path"] in self.exempt_paths:
            return await self.app(scope, receive, send)
        header = next((value for name, value in scope["headers"] if name == b"host"), b"")
        if header in self._accepted:
            return await self.app(scope, receive, send)
        if host_name(header.decode("latin-1")) in self.trusted:
            if len(self._accepted) < ACCEPTED_KEPT:
                self._accepted.add(header)
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            # Closing before accepting makes the server refuse the upgrade (403).
            return await send({"type": "websocket.close", "code": 1008})
        response = problem_response(
            400, "The Host header names a host this service does not serve."
        )
        await response(scope, receive, send)
