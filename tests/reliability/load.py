"""Bounded HTTP load on loopback: a few client threads, every answer kept for the assertions.

Each thread cycles through what a user of the API does: a slow read (an I/O-bound request
that is in flight for a while), a list of items, and a create with an Idempotency-Key that
it retries, with the same key and body, until the service acknowledges it. Every attempt
is one Outcome; acknowledged creates are kept to compare with the database afterwards.
"""

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field

import httpx

# No request may hang: anything slower than this is a failure, not a wait.
CLIENT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
RETRY_PAUSE_S = 0.2
# How long a create keeps retrying after the load stops, so a write caught by the fault
# still ends acknowledged (the client's view of "not lost").
CREATE_RETRY_S = 30.0


@dataclass(frozen=True)
class Outcome:
    label: str
    status: int | None  # None: no HTTP answer at all (connection refused or reset, timeout)
    started: float
    elapsed: float
    content_type: str = ""
    detail: str = ""  # body or error, kept for failures only
    response: httpx.Response | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status is not None and self.status < 400


class Load:
    """`threads` clients against base_url until stop(); one fresh connection per request,
    as many independent clients would open, so no keep-alive race blurs the counts."""

    def __init__(self, base_url: str, token: str, *, threads: int = 6, slow_ms: int = 300):
        self.base_url = base_url
        self.headers = {"Authorization": f"Bearer {token}"}
        self.slow_ms = slow_ms
        self.run_id = uuid.uuid4().hex[:8]
        self.outcomes: list[Outcome] = []
        self.acknowledged: dict[str, int] = {}  # item name -> id the client was given
        self.replays_mismatched: list[str] = []
        self._names = itertools.count()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def __enter__(self) -> "Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(CREATE_RETRY_S + CLIENT_TIMEOUT.read + 5)

    @property
    def name_prefix(self) -> str:
        return f"load-{self.run_id}-"

    def _run(self) -> None:
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.base_url, timeout=CLIENT_TIMEOUT, limits=limits) as client:
            for step in itertools.cycle(("slow", "list", "create")):
                if self._stopping.is_set():
                    return
                if step == "slow":
                    self._send(client, "slow", "GET", "/api/v1/slow", params={"ms": self.slow_ms})
                elif step == "list":
                    self._send(client, "list", "GET", "/api/v1/items", params={"limit": 5})
                else:
                    self._create(client)

    def _send(self, client: httpx.Client, label: str, method: str, url: str, **kwargs) -> Outcome:
        started = time.monotonic()
        try:
            response = client.request(method, url, **kwargs)
        except httpx.HTTPError as error:
            outcome = Outcome(label, None, started, time.monotonic() - started, detail=repr(error))
        else:
            outcome = Outcome(
                label,
                response.status_code,
                started,
                time.monotonic() - started,
                response.headers.get("content-type", ""),
                "" if response.is_success else response.text[:500],
                response,
            )
        self.outcomes.append(outcome)
        return outcome

    def _create(self, client: httpx.Client) -> None:
        name = f"{self.name_prefix}{next(self._names):05d}"
        body = {"name": name, "price": "1.00", "tags": ["load"]}
        headers = {**self.headers, "Idempotency-Key": f"{name}-key"}

        def post(label: str) -> Outcome:
            return self._send(client, label, "POST", "/api/v1/items", json=body, headers=headers)

        created = self._until_answered(lambda: post("create"))
        if created is None or created.status != 201:
            return
        item_id = created.response.json()["id"]
        self.acknowledged[name] = item_id
        # A client that never saw that answer would send the same request again.
        replay = self._until_answered(lambda: post("create-replay"))
        if replay is not None and (replay.status != 201 or replay.response.json()["id"] != item_id):
            self.replays_mismatched.append(f"{name}: {replay.status} {replay.detail}")

    def _until_answered(self, attempt) -> Outcome | None:
        """Repeat attempt() while the answer says "try again" (none, 503, or 409 while the
        same key is in progress); None if it never settled before the retry window closed."""
        deadline = None
        while True:
            outcome = attempt()
            if outcome.status not in (None, 409, 503):
                return outcome
            if self._stopping.is_set():
                deadline = deadline or time.monotonic() + CREATE_RETRY_S
                if time.monotonic() > deadline:
                    return None
            time.sleep(RETRY_PAUSE_S)

    # Figures for assertions and the report.

    def sent(self) -> int:
        return len(self.outcomes)

    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.ok]

    def statuses(self) -> Counter:
        return Counter(outcome.status for outcome in self.outcomes)

    def recovered_in(self, fault: float) -> float:
        """Seconds from the fault to the end of the last failed request (0: nothing failed)."""
        ends = [outcome.started + outcome.elapsed for outcome in self.failures()]
        return round(max(0.0, max(ends, default=fault) - fault), 1)
