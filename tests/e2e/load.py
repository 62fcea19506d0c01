"""Steady client load through a Service, every request's outcome recorded.

A few threads with keep-alive connections (as a proxy in front of the Service would hold
them) alternate a database route and a database-free one. A request counts as failed on any
5xx or transport error (refused, reset, timed out); those are what a user would see.

One exception, as a proxy or an HTTP client library treats it: a keep-alive connection that
the server closed while idle, just as a request was sent on it (a stopping worker closes its
idle connections), is retried once on a new connection; the request never reached the app.
Such retries are counted (`resets_retried`), and a retry that fails counts as a failure."""

import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from .cluster import SERVICE_HOST

PATHS = ("/api/v1/items?limit=5", "/api/v1/ping")


@dataclass
class Outcome:
    at: float
    ok: bool
    what: str
    # For a failed answer: the path and who gave it (the app answers problem+json, an edge
    # or proxy its own text), so a report tells a dropped request's source.
    detail: str = ""


@dataclass
class Load:
    base_url: str
    # Steady traffic well inside what two one-worker pods serve on this shared machine, so
    # a failure means the rollout dropped requests, not that the pods were saturated.
    workers: int = 3
    # Seconds each worker waits between requests; 0 sends as fast as the service answers.
    pause: float = 0.1
    paths: tuple[str, ...] = PATHS
    outcomes: list[Outcome] = field(default_factory=list)
    resets_retried: int = 0
    # Through an edge: its Host, TLS verification (a context trusting its CA) and, as httpx
    # names it, the name to send in SNI when base_url holds an address.
    headers: dict[str, str] = field(default_factory=lambda: dict(SERVICE_HOST))
    verify: ssl.SSLContext | bool = True
    extensions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, daemon=True) for _ in range(self.workers)
        ]

    def __enter__(self) -> "Load":
        self.started = time.time()
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        self.stopped = time.time()

    def _run(self) -> None:
        with httpx.Client(
            base_url=self.base_url, headers=self.headers, timeout=10, verify=self.verify
        ) as client:
            n = 0
            while not self._stop.is_set():
                path = self.paths[n % len(self.paths)]
                n += 1
                try:
                    try:
                        response = client.get(path, extensions=self.extensions)
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        with self._lock:
                            self.resets_retried += 1
                        response = client.get(path, extensions=self.extensions)
                    outcome = self._outcome(path, response)
                except httpx.HTTPError as exc:
                    outcome = Outcome(time.time(), False, type(exc).__name__, f"{path}: {exc}")
                with self._lock:
                    self.outcomes.append(outcome)
                if self.pause:
                    self._stop.wait(self.pause)

    @staticmethod
    def _outcome(path: str, response: httpx.Response) -> Outcome:
        status = response.status_code
        if status < 500:
            return Outcome(time.time(), True, str(status))
        server = response.headers.get("server", "-")
        kind = response.headers.get("content-type", "-")
        return Outcome(
            time.time(),
            False,
            str(status),
            f"{path}: server {server}, {kind}, {response.text[:120]!r}",
        )

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.ok]

    def summary(self) -> dict:
        seconds = max(getattr(self, "stopped", time.time()) - self.started, 1e-9)
        return {
            "requests": self.total,
            "failed": len(self.failures),
            "requests_per_s": round(self.total / seconds, 1),
            "failures_by_kind": dict(Counter(o.what for o in self.failures)),
            "resets_retried": self.resets_retried,
            "first_failures": [f"{o.at:.1f} {o.what} {o.detail}" for o in self.failures[:3]],
        }
