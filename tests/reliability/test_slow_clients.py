"""Slow clients cannot hold nginx's connections: its client timeouts (60 s, nginx's defaults)
cut a client that trickles its request head and one that stops halfway through its body."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.nginx.conftest import proxy, service  # noqa: F401 - nginx in front of the service

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

# Far beyond nginx's 60 s: a connection still open by then was not cut.
GIVE_UP_S = 150


def hold_open(port: int, first: bytes, trickle: bytes | None) -> tuple[str, float, bytes]:
    """Send `first`, then `trickle` every few seconds (or nothing), until the server closes
    the connection: how it ended, after how many seconds, and what it answered."""
    started = time.monotonic()
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(first)
        sock.settimeout(3)
        while time.monotonic() - started < GIVE_UP_S:
            try:
                chunk = sock.recv(4096)
            except TimeoutError:
                if trickle:
                    sock.sendall(trickle)
                continue
            except ConnectionResetError:
                return "reset", time.monotonic() - started, answer
            if not chunk:
                return "closed", time.monotonic() - started, answer
            answer += chunk
    return "still open", time.monotonic() - started, answer


def test_slow_clients_are_cut_off(proxy, report):  # noqa: F811
    head = b"GET /api/v1/items HTTP/1.1\r\nHost: localhost\r\n"
    body = b"POST /api/v1/items HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{"
    with ThreadPoolExecutor(2) as pool:
        trickled = pool.submit(hold_open, proxy.http_port, head, b"X-Slow: 1\r\n")
        stalled = pool.submit(hold_open, proxy.http_port, body, None)
        outcomes = {"trickled head": trickled.result(), "stalled body": stalled.result()}

    report.record(
        "slow clients through nginx (trickled head, stalled body)",
        requests_sent=len(outcomes),
        failed="-",
        recovered_in_s="-",
        rows_acknowledged="-",
        rows_found="-",
        notes="; ".join(
            f"{name}: {how} after {seconds:.0f} s"
            + (f" with {answer.split(b' ')[1].decode()}" if answer.startswith(b"HTTP/") else "")
            for name, (how, seconds, answer) in outcomes.items()
        ),
    )
    assert {how for how, _, _ in outcomes.values()} <= {"closed", "reset"}, outcomes
