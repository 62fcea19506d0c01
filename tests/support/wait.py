"""Waiting for what happens just after a reply: a log line, a counter, a state change."""

import time
from collections.abc import Callable

import pytest


def eventually(find: Callable[[], object], what: str, timeout: float = 10.0):
    """Poll until find() returns something truthy, and return it."""
    deadline = time.monotonic() + timeout
    while not (found := find()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {timeout}s")
        time.sleep(0.05)
    return found
