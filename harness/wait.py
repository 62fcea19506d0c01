"""The one way to wait for something: a log line, a counter, a pod, a server answering."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """What was awaited did not happen in time. An AssertionError, so a test reports it as a
    failure of what it waited for, not as an error of the harness."""


def eventually(
    find: Callable[[], T],
    what: str,
    *,
    timeout: float = 10.0,
    every: float = 0.05,
    before_each: Callable[[], object] | None = None,
) -> T:
    """Call find() until it returns something truthy, and return that.

    `before_each` runs before every try (sending the traffic a metric needs, say). An
    AssertionError from find() counts as "not yet", so a check can assert as it goes.
    """
    deadline = time.monotonic() + timeout
    last_error: AssertionError | None = None
    while True:
        if before_each is not None:
            before_each()
        try:
            if found := find():
                return found
        except AssertionError as error:
            last_error = error
        if time.monotonic() > deadline:
            detail = f" (last: {last_error})" if last_error else ""
            raise WaitTimeout(f"{what} did not happen within {timeout:g}s{detail}")
        time.sleep(every)


def timed(find: Callable[[], object], what: str, *, timeout: float, every: float = 0.1) -> float:
    """Wait as eventually() does; the seconds it took, to one decimal."""
    started = time.monotonic()
    eventually(find, what, timeout=timeout, every=every)
    return round(time.monotonic() - started, 1)
