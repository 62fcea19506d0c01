"""items-api under a realistic mix: shoppers reading, merchants writing, the odd stale link.

Tags select workload shapes (`--tags db-read`, `--tags read`, ...); see loadtest/README.md.
The scenario seeds its own items on test start, checks every response, and on quitting
prints a summary and sets the exit code from the SLO file (--slo-file).

Every simulated user sends its own client address (from 198.18.0.0/15, the range reserved
for benchmarks, RFC 2544) in X-Forwarded-For. A proxy that trusts the load generator's
address, as the local nginx trusts 127.0.0.1, then rate-limits per simulated user the way it
limits real clients, instead of treating the whole test as one abusive client.
"""

import ipaddress
import json
import logging
import random
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import yaml
from locust import FastHttpUser, between, constant_throughput, events, tag, task
from locust.runners import WorkerRunner

logger = logging.getLogger(__name__)
SLO_FILE = Path(__file__).with_name("slo.yaml")
SEED_ITEMS = 30
API = "/api/v1"
PAGE_KEYS = {"items", "limit", "next_cursor"}


def _names_in_order(body: dict) -> str | None:
    names = [item["name"] for item in body.get("items", ())]
    if not names:
        return "seeded items not found"
    return None if names == sorted(names) else f"names out of order: {names}"


CLIENT_NETWORK = ipaddress.ip_network("198.18.0.0/15")
# The labels end at the line's last "}": route templates put braces in label values.
METRIC_LINE = re.compile(r"^http_requests_total\{.*\}\s+([0-9.e+]+)$", re.MULTILINE)

# Filled on test start, per Locust process: the catalogue the users browse and a token.
catalogue: dict = {"item_ids": [], "token": None, "run": None}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument(
        "--admin-email", env_var="ADMIN_EMAIL", default="admin@example.com",
        help="Account that seeds the catalogue and that merchants act as",
    )  # fmt: skip
    parser.add_argument(
        "--admin-password", env_var="ADMIN_PASSWORD", default="", is_secret=True,
        help="Its password (env ADMIN_PASSWORD)",
    )  # fmt: skip
    parser.add_argument(
        "--slo-file", default=str(SLO_FILE),
        help="YAML thresholds (error_rate, p95_ms, p99_ms); broken ones fail the run",
    )  # fmt: skip
    parser.add_argument(
        "--pace", type=float, default=0.0,
        help="Requests/s per user, for an open fixed rate (users x pace); 0 keeps think times",
    )  # fmt: skip
    parser.add_argument(
        "--pods-from", default="",
        help="host:port whose DNS name lists the target pods (a headless Service); the "
        "summary then shows requests per pod from their /metrics",
    )  # fmt: skip


@events.init.add_listener
def _apply_pace(environment, **_kwargs) -> None:
    pace = environment.parsed_options.pace if environment.parsed_options else 0
    if pace:
        for user_class in environment.user_classes:
            user_class.wait_time = constant_throughput(pace)


def _client_address() -> str:
    return str(CLIENT_NETWORK[random.randrange(1, CLIENT_NETWORK.num_addresses - 1)])


def _call(host: str, method: str, path: str, *, data=None, form=None, token=None) -> dict:
    """A request outside Locust's statistics: seeding must not count against the SLO."""
    headers = {"X-Forwarded-For": _client_address(), "Accept": "application/json"}
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    # The host was checked to be http(s) on test start.
    request = urllib.request.Request(host + path, data=body, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def new_item(prefix: str) -> dict:
    return {
        "name": f"{prefix}-{uuid.uuid4().hex[:12]}",
        "description": "made by the load test",
        "price": f"{random.randint(100, 99_999) / 100:.2f}",
        "tags": random.sample(["garden", "kitchen", "tools", "toys", "books"], 2),
    }


def seed_catalogue(environment) -> bool:
    """Log in and create this run's items; False (and the reason logged) when that fails."""
    options = environment.parsed_options
    host = (environment.host or "").rstrip("/")
    if not host.startswith(("http://", "https://")):
        logger.error("--host must be an http(s) URL, not %r", host)
        return False
    run = f"lt{uuid.uuid4().hex[:8]}"
    try:
        token = _call(
            host, "POST", f"{API}/auth/token",
            form={"username": options.admin_email, "password": options.admin_password},
        )["access_token"]  # fmt: skip
        ids = [
            _call(host, "POST", f"{API}/items", data=new_item(f"{run}-seed"), token=token)["id"]
            for _ in range(SEED_ITEMS)
        ]
    except (urllib.error.URLError, OSError, KeyError) as error:
        logger.error("seeding the catalogue at %s failed, stopping: %s", host, error)
        return False
    catalogue.update(item_ids=ids, token=token, run=run)
    return True


@events.init.add_listener
def _seed_before_the_clock_starts(environment, **_kwargs) -> None:
    # Headless, --run-time starts counting with the test: seeding here keeps it out of the
    # measured time. In the web UI the host may only be known at start (test_start seeds).
    if environment.parsed_options.headless and not seed_catalogue(environment):
        raise SystemExit(2)


@events.test_start.add_listener
def _prepare_run(environment, **_kwargs) -> None:
    if catalogue["run"] is None and not seed_catalogue(environment):
        environment.runner.quit()
        return
    _drop_users_without_tasks(environment)
    options = environment.parsed_options
    if not isinstance(environment.runner, WorkerRunner) and options.pods_from:
        catalogue["pods_before"] = pod_request_counts(options.pods_from)


def _drop_users_without_tasks(environment) -> None:
    # After --tags filtering a user class may have nothing left to do (`--tags ping` leaves
    # merchants idle); Locust would still spawn it and fail, so it goes before spawning.
    kept = [user_class for user_class in environment.user_classes if user_class.tasks]
    environment.user_classes[:] = kept
    for name in [name for name, cls in environment.user_classes_by_name.items() if not cls.tasks]:
        del environment.user_classes_by_name[name]


class ApiUser(FastHttpUser):
    abstract = True

    def on_start(self) -> None:
        self.client_address = _client_address()

    def call(self, method: str, path: str, *, name: str, expect: int, check=None, **kwargs):
        """One checked request: the status, a JSON body, and what `check(body)` objects to."""
        headers = {"X-Forwarded-For": self.client_address, **kwargs.pop("headers", {})}
        with self.client.request(
            method, path, name=name, headers=headers, catch_response=True, **kwargs
        ) as response:
            if response.status_code != expect:
                response.failure(f"HTTP {response.status_code}, expected {expect}")
                return None
            try:
                body = response.json()
            except ValueError:
                response.failure("answer is not JSON")
                return None
            problem = check(body) if check else None
            if problem:
                response.failure(problem)
                return None
            response.success()
            return body


class Shopper(ApiUser):
    """Browses the catalogue: item pages, list pages, a search, now and then a dead link."""

    weight = 4
    wait_time = between(0.5, 2)

    @tag("read", "db-read")
    @task(10)
    def view_item(self) -> None:
        item_id = random.choice(catalogue["item_ids"])
        self.call(
            "GET", f"{API}/items/{item_id}", name=f"{API}/items/{{id}}", expect=200,
            check=lambda body: None if body.get("id") == item_id else f"got {body.get('id')}",
        )  # fmt: skip

    @tag("read")
    @task(4)
    def browse_catalogue(self) -> None:
        # A page further into the catalogue: the cursor is the id the page starts after.
        cursor = random.choice(catalogue["item_ids"]) - 1
        self.call(
            "GET", f"{API}/items?limit=20&cursor={cursor}", name=f"{API}/items?cursor", expect=200,
            check=lambda body: None if body.keys() >= PAGE_KEYS else f"not a page: {sorted(body)}",
        )  # fmt: skip

    @tag("read")
    @task(2)
    def search_by_name(self) -> None:
        # A prefix list comes in name order; its next page is asked for by next_cursor.
        query = f"{API}/items?name_prefix={catalogue['run']}&limit=5"
        page = self.call(
            "GET", query, name=f"{API}/items?name_prefix", expect=200, check=_names_in_order,
        )  # fmt: skip
        if page and page["next_cursor"]:
            self.call(
                "GET", f"{query}&cursor={urllib.parse.quote(page['next_cursor'])}",
                name=f"{API}/items?name_prefix&cursor", expect=200, check=_names_in_order,
            )  # fmt: skip

    @tag("read", "not-found")
    @task(1)
    def follow_stale_link(self) -> None:
        self.call(
            "GET", f"{API}/items/999999999", name=f"{API}/items/{{missing}}", expect=404,
            check=lambda body: None if body.get("status") == 404 else "not a problem+json 404",
        )  # fmt: skip

    @tag("ping")
    @task(1)
    def open_app(self) -> None:
        self.call(
            "GET", f"{API}/ping", name=f"{API}/ping", expect=200,
            check=lambda body: None if body == {"pong": True} else f"odd pong {body}",
        )  # fmt: skip

    @tag("io-wait")
    @task(1)
    def check_delivery_estimate(self) -> None:
        # Stands in for a page that waits on a slow downstream (50 ms).
        self.call("GET", f"{API}/slow?ms=50", name=f"{API}/slow", expect=200)


class Merchant(ApiUser):
    """Adds items and reprices them, with the seeding account's token."""

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        super().on_start()
        self.own_ids: list[int] = []
        self.auth = {"Authorization": f"Bearer {catalogue['token']}"}

    @tag("write", "db-write")
    @task(3)
    def add_item(self) -> None:
        item = new_item(catalogue["run"])
        body = self.call(
            "POST", f"{API}/items", name=f"{API}/items [create]", expect=201,
            json=item, headers=self.auth,
            check=lambda body: None if body.get("name") == item["name"] else "another item",
        )  # fmt: skip
        if body is not None:
            self.own_ids.append(body["id"])

    @tag("write")
    @task(1)
    def reprice_item(self) -> None:
        if not self.own_ids:
            return self.add_item()
        price = f"{random.randint(100, 99_999) / 100:.2f}"
        self.call(
            "PATCH", f"{API}/items/{random.choice(self.own_ids)}",
            name=f"{API}/items/{{id}} [update]", expect=200, json={"price": price},
            headers=self.auth,
            check=lambda body: None if body.get("price") == price else f"price {body.get('price')}",
        )  # fmt: skip


def pod_request_counts(host_port: str) -> dict[str, float]:
    """Requests each pod behind a headless Service has served, from its own /metrics."""
    host, _, port = host_port.rpartition(":")
    counts = {}
    for address in sorted({info[4][0] for info in socket.getaddrinfo(host, int(port))}):
        try:
            with urllib.request.urlopen(f"http://{address}:{port}/metrics", timeout=5) as answer:
                text = answer.read().decode()
        except OSError:
            continue
        counts[address] = sum(float(value) for value in METRIC_LINE.findall(text))
    return counts


def slo_verdicts(stats, thresholds: dict) -> list[tuple[str, float, float, bool]]:
    """(measure, observed, limit, kept) for each threshold, over all requests."""
    total = stats.total
    observed = {
        "error_rate": total.fail_ratio,
        "p95_ms": total.get_response_time_percentile(0.95) or 0.0,
        "p99_ms": total.get_response_time_percentile(0.99) or 0.0,
    }
    unknown = set(thresholds) - set(observed)
    if unknown:
        raise SystemExit(f"locust: unknown SLO keys {sorted(unknown)}; use {sorted(observed)}")
    return [
        (name, observed[name], float(limit), observed[name] <= float(limit))
        for name, limit in thresholds.items()
    ]


@events.quitting.add_listener
def _summarise_and_gate(environment, **_kwargs) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    if catalogue["run"] is None:
        logger.error("no load was sent: the catalogue was not seeded")
        environment.process_exit_code = 2
        return
    stats = environment.runner.stats
    header = f"{'request':<34} {'reqs':>7} {'fails':>6} {'req/s':>7}"
    lines = [header + "".join(f" {name:>6}" for name in ("p50", "p95", "p99"))]
    for entry in [*sorted(stats.entries.values(), key=lambda e: e.name), stats.total]:
        lines.append(
            f"{entry.name[:34]:<34} {entry.num_requests:>7} {entry.num_failures:>6} "
            f"{entry.total_rps:>7.1f} {entry.median_response_time or 0:>6.0f} "
            f"{entry.get_response_time_percentile(0.95) or 0:>6.0f} "
            f"{entry.get_response_time_percentile(0.99) or 0:>6.0f}"
        )
    if environment.parsed_options.pods_from and "pods_before" in catalogue:
        before = catalogue["pods_before"]
        for pod, count in pod_request_counts(environment.parsed_options.pods_from).items():
            lines.append(f"pod {pod:<30} {count - before.get(pod, 0):>7.0f} requests served")
        lines.append(f"(served includes each Locust worker's seeding: {SEED_ITEMS + 1} requests)")
    thresholds = yaml.safe_load(Path(environment.parsed_options.slo_file).read_text()) or {}
    broken = False
    for name, value, limit, kept in slo_verdicts(stats, thresholds):
        broken |= not kept
        lines.append(f"SLO {name:<8} {value:>10.4g} <= {limit:<8g} {'ok' if kept else 'BROKEN'}")
    if stats.total.num_requests == 0:
        broken = True
        lines.append("SLO no requests were made")
    print("\n".join(lines), flush=True)
    if broken:
        environment.process_exit_code = 3
