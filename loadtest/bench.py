"""The benchmark: what each layer of our stack costs, side by side, in one run.

Every server runs as one uvicorn worker under gunicorn inside a 1-CPU CFS quota
(loadtest/budget.py); wrk saturates each in turn with the same connections and duration.
The ratios the issue sets targets for are computed from the same run, from cases measured in
alternation: every server they compare is up at once, each in a budget of its own, and the
cases take turns for --rounds rounds; each case keeps its median round. A slow phase of a
shared machine then costs every case one round, instead of deciding one ratio.

    middleware_vs_bare_fastapi  our /api/v1/ping (request id, access log, metrics)
                                vs. a FastAPI app with only that route
    nginx_vs_direct             our /api/v1/ping through nginx vs. straight to gunicorn
    db_route_vs_raw_asyncpg     our GET /api/v1/items/{id} (SQLAlchemy's pool, middleware)
                                vs. the same read on a raw asyncpg pool of the same size
    create_vs_raw_asyncpg       our POST /api/v1/items vs. the same create (token check,
                                INSERT ... RETURNING) on bare FastAPI and the raw pool

Each case also gets the server's own CPU time per request (its processes' user + system
time over the run, divided by the requests answered: steadier than req/s on a shared
machine) and the PostgreSQL sessions opened meanwhile (a pool that churns opens some).
Beside the cases: the PostgreSQL round trips of each request kind (from the server's
statement log), the list at 1,000 rows and at --list-rows rows, the read's tail at several
concurrencies, and the read at several pool sizes.

    python -m loadtest.bench [--seconds 5] [--rounds 5] [--list-rows 1000000]
                             [--out loadtest/reports]
"""

import argparse
import contextlib
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from app.core.config import PROBE_PATHS

from harness.net import free_port
from loadtest.budget import cpu_budget
from loadtest.generators import locust_fixed_rate, require_wrk, wrk
from loadtest.procs import REPO, VENV_BIN, Server, gunicorn_service, service_env
from loadtest.report import bench_markdown, load_average, write_json
from loadtest.stage import ADMIN_EMAIL, ADMIN_PASSWORD, SEEDED_ITEMS, Stage, seed_items

REPORTS = REPO / "loadtest" / "reports"
CONNECTIONS = 64
TARGETS = {
    "middleware_vs_bare_fastapi": 0.6,
    "nginx_vs_direct": 0.85,
    "db_route_vs_raw_asyncpg": 0.5,
    "create_vs_raw_asyncpg": 0.5,
}
# The list at --list-rows rows may take at most this many times its p50 at 1,000 rows.
LIST_SCALING_TARGET = 1.5
# p99 at most this many times p50, at the concurrency the README recommends per worker.
TAIL_TARGET = 3.0
TAIL_CONNECTIONS = (8, 16, 32, CONNECTIONS)
POOL_SIZES = (2, 5, 10)
LISTS = {
    "list_plain": ("limit=20", "GET /api/v1/items?limit=20"),
    "list_tag": ("limit=20&tag=group3", "the same, tag=group3 (a tenth of the rows)"),
    "list_rare_tag": ("limit=20&tag=rare7", "the same, tag=rare7 (a thousandth)"),
    "list_prefix": ("limit=20&name_prefix=seed-1", "the same, name_prefix=seed-1 (a ninth)"),
    "list_rare_prefix": (
        "limit=20&name_prefix=seed-12",
        "the same, name_prefix=seed-12 (11 rows at 1,000; 11,111 at 1,000,000)",
    ),
}
RSS_TARGET_MB = 90
START_TARGET_S = 2.0
IMAGE = "localhost/items-api:dev"


def reference_app(name: str, app: str, port: int, budget, database_url: str) -> Server:
    return Server(
        name,
        [
            str(VENV_BIN / "gunicorn"),
            "-k",
            "uvicorn_worker.UvicornWorker",
            "-w",
            "1",
            "-b",
            f"127.0.0.1:{port}",
            "--keep-alive",
            "75",
            f"loadtest.benchapps:{app}",
        ],
        port=port,
        budget=budget,
        env={k: v for k, v in service_env(database_url).items() if k != "ENVIRONMENT"},
    )


class Nginx:
    """The project's nginx rendering (nginx/render.py, local profile) in front of `upstream`,
    with one worker as in the pod's sidecar, outside the service's CPU budget."""

    def __init__(self, upstream: str, workdir: Path) -> None:
        sys.path.insert(0, str(REPO))
        from nginx import render

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        run = workdir / "nginx"
        values = render.values_for(
            "local",
            {
                "UPSTREAM": upstream,
                "HTTP_PORT": str(self.port),
                "WORKER_PROCESSES": "1",
                "STATUS_LISTEN": f"127.0.0.1:{free_port()}",
                "RUN_DIR": str(run),
                "ACCESS_LOG": str(run / "access.log"),
                "ERROR_LOG": str(run / "error.log"),
                # One wrk process is one client here; production's limit is per client.
                "RATE_LIMIT": "1000000r/s",
                "RATE_LIMIT_BURST": "100000",
            },
        )
        self.conf = render.write(run / "conf", values)
        self.binary = shutil.which("nginx", path=f"{os.environ['PATH']}:/usr/sbin") or "nginx"
        self.error_log = run / "error.log"

    def __enter__(self) -> "Nginx":
        subprocess.run([self.binary, "-e", str(self.error_log), "-c", str(self.conf)], check=True)
        for _ in range(100):
            try:
                httpx.get(self.url + "/api/v1/ping", timeout=1)
                return self
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not answer on {self.url}")

    def __exit__(self, *_exc) -> None:
        subprocess.run(
            [self.binary, "-e", str(self.error_log), "-c", str(self.conf), "-s", "stop"],
            check=False,
        )


class Bench:
    def __init__(self, args, stage: Stage) -> None:
        self.args = args
        self.stage = stage
        self.cases: dict[str, dict] = {}
        self.figures: dict[str, dict] = {}
        self.budget_kind = ""

    def saturate(
        self,
        name: str,
        what: str,
        server,
        url: str,
        mode: str = "get",
        env=None,
        connections: int = CONNECTIONS,
        record: bool = True,
    ) -> dict:
        wrk(url, seconds=1, connections=connections, mode=mode, env=env)
        cpu, sessions = server.cpu_seconds(), self.stage.sessions_opened()
        case = wrk(url, seconds=self.args.seconds, connections=connections, mode=mode, env=env)
        answered = case["requests"] - case["errors"]
        case["cpu_us_per_request"] = round((server.cpu_seconds() - cpu) / max(answered, 1) * 1e6)
        case["sessions_opened"] = self.stage.sessions_opened() - sessions
        case["what"] = what
        if record:
            self.cases[name] = case
        print(
            f"  {name:<26} {case['rps']:8.0f} req/s  {case['cpu_us_per_request']:6d} us CPU"
            f"  p50 {case['latency_ms']['p50']:7.1f} ms  p99 {case['latency_ms']['p99']:7.1f} ms"
            f"  errors {case['errors']}  sessions +{case['sessions_opened']}",
            flush=True,
        )
        return case

    def budget(self, label: str):
        budget = cpu_budget(1, f"items-api-bench-{label}-{os.getpid()}")
        self.budget_kind = f"{budget.kind} of {budget.quota_cpus():g} CPU"
        return budget

    def references(self) -> None:
        """The most the server stack itself can do: no target compares with it."""
        budget = self.budget("minimal_asgi")
        try:
            with reference_app(
                "minimal_asgi", "minimal", free_port(), budget, self.stage.database_url
            ) as server:
                self.saturate(
                    "minimal_asgi", "bare ASGI callable, same JSON", server,
                    server.url + "/api/v1/ping",
                )  # fmt: skip
        finally:
            budget.close()

    def alternated(self) -> None:
        """The two sides of every ratio, and the ping with the access log or the request
        metrics off for it (where the middleware's cost goes: a pointer, not a target)."""
        url = self.stage.database_url
        token = self.stage.token_for_admin(service_env(url)["JWT_SECRET"])
        raw_env = {"WRK_IDS": str(SEEDED_ITEMS), "WRK_TOKEN": token}
        off = ",".join((*PROBE_PATHS, "/api/v1/ping"))
        with contextlib.ExitStack() as stack:

            def up(label: str, start) -> Server:
                budget = self.budget(label)
                stack.callback(budget.close)
                return stack.enter_context(start(budget))

            def ours(label: str, **env) -> Server:
                return up(label, lambda b: gunicorn_service(free_port(), 1, url, b, **env))

            bare = up("bare", lambda b: reference_app("bare", "bare", free_port(), b, url))
            raw = up("raw-db", lambda b: reference_app("raw_db", "raw_db", free_port(), b, url))
            service = ours("service")
            no_log = ours("no-log", ACCESS_LOG_EXCLUDE_PATHS=off)
            no_metrics = ours("no-metrics", METRICS_EXCLUDE_PATHS=off)
            neither = ours("neither", ACCESS_LOG_EXCLUDE_PATHS=off, METRICS_EXCLUDE_PATHS=off)
            nginx = stack.enter_context(Nginx(f"127.0.0.1:{service.port}", self.stage.tmp))
            reads = {"WRK_IDS": str(SEEDED_ITEMS)}
            writes = {"WRK_TOKEN": self.stage.token(service.url)}
            ping = "/api/v1/ping"
            cases = [
                ("bare_fastapi", "FastAPI, one route, no middleware", bare, bare.url + ping),
                ("service_direct", "our /api/v1/ping, full middleware", service,
                 service.url + ping),
                ("service_nginx", "the same through nginx (1 worker)", service, nginx.url + ping),
                ("service_no_access_log", "ping, access log off for it", no_log,
                 no_log.url + ping),
                ("service_no_metrics", "ping, request metrics off for it", no_metrics,
                 no_metrics.url + ping),
                ("service_no_log_no_metrics", "ping, both off", neither, neither.url + ping),
                ("raw_asyncpg_db_read", "FastAPI + raw asyncpg pool, GET /api/v1/items/{id}",
                 raw, raw.url, "read", raw_env),
                ("service_db_read", "our GET /api/v1/items/{id} (full middleware)", service,
                 service.url, "read", reads),
                ("raw_asyncpg_create",
                 "FastAPI + raw asyncpg pool, POST /api/v1/items (token's user, INSERT)",
                 raw, raw.url, "write", raw_env),
                ("service_create", "our POST /api/v1/items (token, unique names)", service,
                 service.url, "write", writes),
            ]  # fmt: skip
            runs: dict[str, list[dict]] = {case[0]: [] for case in cases}
            for _ in range(self.args.rounds):
                for name, what, server, *target in cases:
                    runs[name].append(self.saturate(name, what, server, *target, record=False))
        for name, rounds in runs.items():
            median = sorted(rounds, key=lambda run: run["rps"])[(len(rounds) - 1) // 2]
            self.cases[name] = {**median, "rounds_rps": [round(run["rps"]) for run in rounds]}

    def service(self) -> None:
        budget = self.budget("service")
        try:
            with gunicorn_service(free_port(), 1, self.stage.database_url, budget) as server:
                reads = {"WRK_IDS": str(SEEDED_ITEMS)}
                writes = {"WRK_TOKEN": self.stage.token(server.url)}
                self.lists(server, "")
                self.tails = {
                    "read": self.by_concurrency(server, "read", reads),
                    "create": self.by_concurrency(server, "write", writes),
                }
                memory = server.memory()
                self.figures["rss_mb_per_worker"] = figure(
                    round(memory["rss_mb_per_worker"], 1),
                    f"<= {RSS_TARGET_MB}",
                    memory["rss_mb_per_worker"] <= RSS_TARGET_MB,
                )
                self.figures["pss_mb_total"] = figure(round(memory["pss_mb_total"], 1))
                self.scenario = locust_fixed_rate(
                    server.url,
                    tag=None,
                    rate=50,
                    seconds=self.args.seconds * 2,
                    request_name="Aggregated",
                    admin=(ADMIN_EMAIL, ADMIN_PASSWORD),
                )
        finally:
            budget.close()

    def by_concurrency(self, server, mode: str, env: dict) -> dict[str, dict]:
        return {
            str(connections): self.saturate(
                f"{mode}_at_{connections}", "", server, server.url, mode, env,
                connections=connections, record=False,
            )
            for connections in TAIL_CONNECTIONS
        }  # fmt: skip

    def lists(self, server, suffix: str) -> None:
        for name, (query, what) in LISTS.items():
            self.saturate(name + suffix, what, server, f"{server.url}/api/v1/items?{query}", "get")

    def list_scaling(self) -> None:
        """The same lists again after the table grew to --list-rows rows."""
        rows = self.args.list_rows
        seed_items(self.stage.postgres, "items", rows - SEEDED_ITEMS, first=SEEDED_ITEMS + 1)
        budget = self.budget("lists")
        try:
            with gunicorn_service(free_port(), 1, self.stage.database_url, budget) as server:
                self.lists(server, "_large")
        finally:
            budget.close()
        self.list_rows = rows

    def pool_sizes(self) -> None:
        """The read at CONNECTIONS with pools of several sizes and no overflow."""
        self.pools = {}
        for size in POOL_SIZES:
            budget = self.budget("pool")
            try:
                with gunicorn_service(
                    free_port(), 1, self.stage.database_url, budget,
                    DB_POOL_SIZE=str(size), DB_MAX_OVERFLOW="0",
                ) as server:  # fmt: skip
                    self.pools[str(size)] = self.saturate(
                        f"read_pool_{size}", "", server, server.url, "read",
                        {"WRK_IDS": str(SEEDED_ITEMS)}, record=False,
                    )  # fmt: skip
            finally:
                budget.close()

    def round_trips(self) -> None:
        """Statements (each one round trip) of one request of each kind, from PostgreSQL's
        statement log, after a first request of each kind prepared them."""
        postgres = self.stage.postgres
        postgres.log_statements("items")
        budget = self.budget("round-trips")
        try:
            with gunicorn_service(free_port(), 1, self.stage.database_url, budget) as server:
                api = f"{server.url}/api/v1"
                auth = {"Authorization": f"Bearer {self.stage.token(server.url)}"}
                names = iter(range(1_000_000))

                def create(_item=None) -> httpx.Response:
                    body = {"name": f"round-trip-{next(names)}", "price": "1.00"}
                    return httpx.post(f"{api}/items", json=body, headers=auth, timeout=30)

                kinds = {
                    "read": lambda item: httpx.get(f"{api}/items/{item}", timeout=30),
                    "list": lambda _item: httpx.get(f"{api}/items?limit=20", timeout=30),
                    "create": create,
                    "delete": lambda item: httpx.delete(
                        f"{api}/items/{item}", headers=auth, timeout=30
                    ),
                }
                self.round_trip_counts = {}
                for kind, request in kinds.items():
                    request(create().json()["id"])  # the first prepares its statements
                    item = create().json()["id"]
                    found: list[str] = []
                    with postgres.statements_of("items", "items-api", found):
                        request(item).raise_for_status()
                    self.round_trip_counts[kind] = {
                        "round_trips": len(found),
                        "statements": [summary(statement) for statement in found],
                    }
        finally:
            budget.close()
            postgres.psql("ALTER DATABASE items RESET log_statement")

    def start_to_ready(self) -> None:
        """Process start to /readyz 200 under the 1-CPU budget, median of three starts."""
        timings = []
        for _ in range(3):
            budget = self.budget("start")
            try:
                server = gunicorn_service(free_port(), 1, self.stage.database_url, budget)
                with server:
                    timings.append(server.start_to_ready_s)
            finally:
                budget.close()
        median = statistics.median(timings)
        self.figures["start_to_ready_s"] = figure(
            round(median, 2), f"< {START_TARGET_S}", median < START_TARGET_S
        )
        self.figures["start_to_ready_s_runs"] = figure([round(t, 2) for t in timings])
        if self.args.image:
            self.image()

    def image(self) -> None:
        """The image's size and its start-to-ready: from the container's process start (as
        the engine records it) to /readyz 200, and from `run` including container creation."""
        engine = subprocess.run(
            [str(REPO / "container" / "engine")], capture_output=True, text=True, check=False
        ).stdout.strip()
        env = {**os.environ, "CONTAINERS_CONF": str(REPO / "container" / "containers.conf")}

        def engine_out(*args: str, check: bool = True) -> subprocess.CompletedProcess:
            return subprocess.run(
                [engine, *args], capture_output=True, text=True, env=env, check=check
            )

        if not engine or engine_out("image", "inspect", IMAGE, check=False).returncode:
            self.figures["image"] = figure(f"{IMAGE} not built (make image); not measured")
            return
        size = int(engine_out("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout)
        port = free_port()
        name = f"items-api-bench-{port}"
        settings = {**service_env(self.stage.database_url), "HOST": "127.0.0.1",
                    "PORT": str(port), "METRICS_PORT": str(free_port()),
                    "WEB_CONCURRENCY": "1"}  # fmt: skip
        requested = time.time()
        tmpfs = "/tmp"  # noqa: S108 - the container's own tmpfs, as the chart mounts it
        engine_out(
            "run", "--rm", "-d", "--network", "host", "--read-only", "--tmpfs", tmpfs,
            "--cpus", "1", "--name", name, *(f"--env={k}={v}" for k, v in settings.items()), IMAGE,
        )  # fmt: skip
        ready_at = None
        try:
            while time.time() - requested < 60:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                        ready_at = time.time()
                        break
                time.sleep(0.02)
            started_ns = engine_out("inspect", name, "--format", "{{.State.StartedAt.UnixNano}}")
        finally:
            engine_out("rm", "-f", name, check=False)
        if ready_at is None:
            self.figures["image_start_to_ready_s"] = figure("not ready within 60 s", "< 2", False)
            return
        from_start = ready_at - int(started_ns.stdout) / 1e9
        self.figures["image_start_to_ready_s"] = figure(
            round(from_start, 2), f"< {START_TARGET_S}", from_start < START_TARGET_S
        )
        self.figures["image_run_to_ready_s"] = figure(
            round(ready_at - requested, 2), "(includes the engine creating the container)"
        )
        self.figures["image_size_mb"] = figure(round(size / 1e6, 1))

    def run(self) -> dict:
        started = time.monotonic()
        load_before = load_average()
        self.round_trips()
        self.references()
        self.alternated()
        self.service()
        self.pool_sizes()
        self.start_to_ready()
        self.list_scaling()
        c = self.cases
        values = {
            "middleware_vs_bare_fastapi": c["service_direct"]["rps"] / c["bare_fastapi"]["rps"],
            "nginx_vs_direct": c["service_nginx"]["rps"] / c["service_direct"]["rps"],
            "db_route_vs_raw_asyncpg": c["service_db_read"]["rps"]
            / c["raw_asyncpg_db_read"]["rps"],
            "create_vs_raw_asyncpg": c["service_create"]["rps"] / c["raw_asyncpg_create"]["rps"],
            "bare_fastapi_vs_minimal_asgi": c["bare_fastapi"]["rps"] / c["minimal_asgi"]["rps"],
            **{
                f"{name}_vs_bare_fastapi": c[name]["rps"] / c["bare_fastapi"]["rps"]
                for name in (
                    "service_no_access_log",
                    "service_no_metrics",
                    "service_no_log_no_metrics",
                )
            },
        }
        return {
            "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": "make bench",
            "duration_s": round(time.monotonic() - started),
            "machine": {
                "cpus": os.cpu_count(),
                "load_average_before": load_before,
                "load_average_after": load_average(),
            },
            "notes": [
                f"Each server: one uvicorn worker under gunicorn in {self.budget_kind}.",
                f"Saturation: wrk, 1 thread, {CONNECTIONS} keep-alive connections, "
                f"{self.args.seconds:g} s after a 1 s warm-up; wrk, PostgreSQL and nginx run "
                "outside the budget in a high-share cgroup.",
                "The cases the ratios compare (and the ping's attribution cases): every server "
                f"up at once, each in its own budget, measured in turn for {self.args.rounds} "
                "rounds; each case shows its median round, `rounds` lists every round's req/s.",
                "nginx: the project's rendering (local profile) with 1 worker process, as the "
                "sidecar runs; its per-client rate limit raised, since wrk is a single client.",
                "Worker recycling off (MAX_REQUESTS=0) so no restart lands inside a run.",
                "Scenario: the Locust mix (loadtest/locustfile.py) at ~50 req/s, direct.",
            ],
            "cases": self.cases,
            "ratios": {name: round(value, 3) for name, value in values.items()},
            "ratio_targets": {
                name: {
                    "value": round(values[name], 3),
                    "target": target,
                    "met": values[name] >= target,
                }
                for name, target in TARGETS.items()
            },
            "round_trips": self.round_trip_counts,
            "list_scaling": self.list_scaling_table(),
            "tails": {
                request: {
                    connections: {
                        "p50_ms": case["latency_ms"]["p50"],
                        "p99_ms": case["latency_ms"]["p99"],
                        "p99_over_p50": round(
                            case["latency_ms"]["p99"] / case["latency_ms"]["p50"], 2
                        ),
                        "rps": round(case["rps"]),
                        "cpu_us_per_request": case["cpu_us_per_request"],
                    }
                    for connections, case in runs.items()
                }
                for request, runs in self.tails.items()
            },
            "tail_target": TAIL_TARGET,
            "pool_sizes": {
                size: {
                    "rps": round(case["rps"]),
                    "cpu_us_per_request": case["cpu_us_per_request"],
                    "p50_ms": case["latency_ms"]["p50"],
                    "p99_ms": case["latency_ms"]["p99"],
                    "sessions_opened": case["sessions_opened"],
                }
                for size, case in self.pools.items()
            },
            "rss_mb_per_worker": self.figures["rss_mb_per_worker"]["value"],
            "start_to_ready_s": self.figures["start_to_ready_s"]["value"],
            "figures": self.figures,
            "scenario": self.scenario,
        }

    def list_scaling_table(self) -> dict:
        table = {"rows": [SEEDED_ITEMS, self.list_rows], "target": LIST_SCALING_TARGET}
        for name in LISTS:
            small, large = self.cases[name], self.cases[name + "_large"]
            ratio = large["latency_ms"]["p50"] / small["latency_ms"]["p50"]
            table[name] = {
                "p50_ms": [small["latency_ms"]["p50"], large["latency_ms"]["p50"]],
                "p99_ms": [small["latency_ms"]["p99"], large["latency_ms"]["p99"]],
                "rps": [round(small["rps"]), round(large["rps"])],
                "p50_ratio": round(ratio, 2),
                "met": ratio <= LIST_SCALING_TARGET,
            }
        return table


def summary(statement: str) -> str:
    """`SELECT items`, `INSERT idempotency_keys`, `BEGIN`: the verb and its table."""
    verb = statement.split(None, 1)[0].upper().rstrip(";")
    table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement, re.IGNORECASE)
    return f"{verb} {table.group(1)}" if table else verb


def figure(value, target: str = "", met: bool | None = None) -> dict:
    return {"value": value, "target": target, "met": met}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5, help="saturation run per case")
    parser.add_argument("--out", type=Path, default=REPORTS, help="folder for the reports")
    parser.add_argument(
        "--rounds", type=int, default=5, help="turns of the cases the ratios compare"
    )
    parser.add_argument(
        "--no-image", dest="image", action="store_false", help=f"skip timing {IMAGE}"
    )
    parser.add_argument(
        "--list-rows", type=int, default=1_000_000, help="rows for the large list cases"
    )
    args = parser.parse_args(argv)
    require_wrk()
    with Stage() as stage:
        results = Bench(args, stage).run()
    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "bench.json", results)
    (args.out / "bench.md").write_text(bench_markdown(results))
    print(
        f"ratios {results['ratios']}; rss_mb_per_worker {results['rss_mb_per_worker']}; "
        f"start_to_ready_s {results['start_to_ready_s']}"
    )
    print(f"wrote {args.out}/bench.{{json,md}} in {results['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
