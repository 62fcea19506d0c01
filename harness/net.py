"""Free ports, and waiting for a server to answer."""

import socket
from collections.abc import Callable

import httpx

from harness.wait import eventually


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(
    url: str,
    *,
    timeout: float = 30.0,
    status: int = 200,
    process=None,
    alive: Callable[[], bool] | None = None,
) -> bool:
    """Poll url until it answers with status: True. False as soon as the server is gone
    (`process` has exited, or `alive()` says no) instead of waiting out the timeout."""
    gone = False

    def answered() -> bool:
        nonlocal gone
        if (process is not None and process.poll() is not None) or (alive and not alive()):
            gone = True
            return True
        try:
            response = httpx.get(url, timeout=2)
        except httpx.HTTPError as error:
            raise AssertionError(repr(error)) from None
        assert response.status_code == status, f"HTTP {response.status_code}: {response.text[:200]}"
        return True

    eventually(answered, f"{url} answering {status}", timeout=timeout, every=0.1)
    if gone and process is not None:
        raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
    return not gone
