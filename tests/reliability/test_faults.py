"""Faults under load: what clients see while instances restart, workers die, the database
goes away or its pool runs dry. Each scenario records its figures in the reliability report."""

import os
import re
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager

import httpx
import pytest

from harness.postgres import PostgresServer
from harness.service import ServiceProcess
from harness.wait import timed
from tests.nginx.conftest import NginxProcess, new_dir
from tests.reliability.conftest import rows_found, token_for
from tests.reliability.load import Load

pytestmark = [pytest.mark.chaos, pytest.mark.slow]

PROBLEM = "application/problem+json"
THREADS = 6
# The bounds: unready within 5 s of losing the database, serving within 10 s of its return.
UNREADY_WITHIN_S = 5
RECOVERED_WITHIN_S = 10
PRE_STOP_S = 1.0
# The machine is shared with builds: a start may take far longer than its 2 s target.
START_TIMEOUT_S = 90


def status_of(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def assert_clean_problems(failures) -> None:
    """Every failure is an answered 503 problem, without internals, never a hang or a 500."""
    assert [f for f in failures if f.status is None] == [], "requests without an answer"
    assert {f.status for f in failures} <= {503}, Counter(f.status for f in failures)
    assert {f.content_type for f in failures} <= {PROBLEM}
    assert not [f for f in failures if "Traceback" in f.detail or "asyncpg" in f.detail]


def describe(responses: list[httpx.Response]) -> str:
    counts = Counter(response.status_code for response in responses)
    return ", ".join(f"{count} x {status}" for status, count in sorted(counts.items()))


def metric_sum(metrics: str, name: str, labels: str = "") -> float:
    """Sum of a metric's samples (over every label set, or those containing `labels`)."""
    pattern = rf"^{name}(?:{{[^}}]*}})? (\S+)$"
    return sum(
        float(match.group(1))
        for match in re.finditer(pattern, metrics, re.M)
        if labels in match.group(0)
    )


def slow_in_progress(service: ServiceProcess) -> float:
    metrics = httpx.get(service.metrics_url, timeout=5).text
    return metric_sum(metrics, "http_requests_inprogress", 'handler="/api/v1/slow"')


def upstreams(services: list[ServiceProcess]) -> str:
    # Rendered as `server <UPSTREAM>;`: more than one server joins with "; server".
    return "; server ".join(f"127.0.0.1:{service.port}" for service in services)


def sigterm_with_requests_in_flight(
    service: ServiceProcess, requests: int = 2
) -> tuple[int, float, list[httpx.Response]]:
    """SIGTERM while clients that reached the instance directly still wait for slow answers:
    its exit code, the seconds it took to exit, and those answers."""
    with ThreadPoolExecutor(requests) as pool:
        in_flight = [
            pool.submit(httpx.get, f"{service.url}/api/v1/slow?ms=3000", timeout=30)
            for _ in range(requests)
        ]
        timed(
            lambda: slow_in_progress(service) == requests,
            timeout=30,
            what="the direct requests reaching the instance",
        )
        signalled = time.monotonic()
        exit_code = service.stop(timeout=int(service.env["GRACEFUL_TIMEOUT_S"]) + 10)
        seconds = time.monotonic() - signalled
        return exit_code, seconds, [future.result() for future in in_flight]


def test_rolling_restart_behind_nginx_fails_no_request(
    postgres, seeded_database, nginx_dir, report
):
    services = [ServiceProcess(seeded_database) for _ in range(2)]
    graceful_s = int(services[0].env["GRACEFUL_TIMEOUT_S"])
    proxy = NginxProcess(
        new_dir(nginx_dir),
        UPSTREAM=upstreams(services),
        # One loopback client stands for many users here; nginx's per-client limit is
        # tested in tests/nginx and tests/security.
        RATE_LIMIT="10000r/s",
        RATE_LIMIT_BURST="10000",
    )
    held: list[httpx.Response] = []
    exits: list[tuple[int, float]] = []
    try:
        for service in services:
            service.start(timeout=START_TIMEOUT_S)
        proxy.start()
        with Load(proxy.url, token_for(proxy.url), threads=THREADS) as load:
            time.sleep(2)
            first_sigterm = time.monotonic()
            for index in range(len(services)):
                leaving = services[index]
                # Readiness 503 takes the pod out of the Service: here, out of the upstream.
                proxy.reload(UPSTREAM=upstreams([s for s in services if s is not leaving]))
                time.sleep(PRE_STOP_S)
                exit_code, seconds, answers = sigterm_with_requests_in_flight(leaving)
                exits.append((exit_code, seconds))
                held += answers
                leaving.close()
                services[index] = ServiceProcess(seeded_database)
                services[index].start(timeout=START_TIMEOUT_S)
                proxy.reload(UPSTREAM=upstreams(services))
                time.sleep(2)
        found = rows_found(postgres, seeded_database, load)
    finally:
        proxy.stop()
        for service in services:
            service.close()

    report.record_load(
        "rolling restart (2 instances behind nginx, each SIGTERMed in turn)",
        load,
        fault=first_sigterm,
        rows_found=found,
        notes=f"{len(held)} more requests sent straight to the instances and in flight at "
        f"SIGTERM: {sum(r.status_code == 200 for r in held)} completed with 200; instances "
        f"exited in at most {max(seconds for _, seconds in exits):.1f} s "
        f"(graceful timeout {graceful_s} s)",
    )
    assert load.failures() == []
    assert [r.status_code for r in held] == [200] * len(held)
    assert all(code == 0 and seconds < graceful_s for code, seconds in exits), exits
    assert found == len(load.acknowledged) > 0


def test_killed_worker_is_replaced_and_costs_only_its_requests(postgres, seeded_database, report):
    service = ServiceProcess(seeded_database, workers=2)
    try:
        service.start(timeout=START_TIMEOUT_S)
        with Load(service.url, token_for(service.url), threads=THREADS) as load:
            time.sleep(3)
            victim = service.worker_pids()[0]
            killed = time.monotonic()
            os.kill(victim, signal.SIGKILL)
            replaced_in = timed(
                lambda: victim not in service.worker_pids() and len(service.worker_pids()) == 2,
                timeout=30,
                what="a replacement worker",
            )
            time.sleep(3)
        found = rows_found(postgres, seeded_database, load)
        master_alive = service.process.poll() is None
    finally:
        service.close()

    failures = load.failures()
    report.record_load(
        "kill -9 of one of 2 gunicorn workers",
        load,
        fault=killed,
        rows_found=found,
        notes=f"master replaced the worker in {replaced_in} s; failures were requests "
        f"that worker held ({THREADS} clients, at most one request each)",
    )
    assert master_alive
    # Only what the dead worker held: requests sent before the kill, one per client at most.
    assert len(failures) <= THREADS
    assert all(failure.started < killed for failure in failures), failures
    assert found == len(load.acknowledged) > 0


def test_database_outage_gives_fast_503s_and_recovers_without_restart(
    postgres, seeded_database, report
):
    service = ServiceProcess(seeded_database)
    livez: list[int | None] = []
    try:
        service.start(timeout=START_TIMEOUT_S)
        master = service.process.pid
        with Load(service.url, token_for(service.url), threads=THREADS) as load:
            time.sleep(2)
            stopped = time.monotonic()
            postgres.stop()
            try:
                unready_in = timed(
                    lambda: status_of(f"{service.url}/readyz") == 503,
                    timeout=UNREADY_WITHIN_S,
                    what="/readyz 503 after the database stopped",
                )
                while time.monotonic() - stopped < 8:
                    livez.append(status_of(f"{service.url}/livez"))
                    time.sleep(0.5)
            finally:
                postgres.start()
            restarted = time.monotonic()
            ready_in = timed(
                lambda: status_of(f"{service.url}/readyz") == 200,
                timeout=RECOVERED_WITHIN_S,
                what="/readyz 200 after the database came back",
            )
            time.sleep(3)
        found = rows_found(postgres, seeded_database, load)
        same_process = service.process.poll() is None and service.process.pid == master
    finally:
        service.close()

    failures = load.failures()
    statuses = Counter(failure.status for failure in failures)
    report.record_load(
        "PostgreSQL stopped for 8 s under load",
        load,
        fault=restarted,
        rows_found=found,
        notes=f"/readyz 503 after {unready_in} s, 200 again {ready_in} s after PostgreSQL "
        f"accepted connections again (recovery counted from then too); "
        f"/livez {Counter(livez)[200]}/{len(livez)} 200; failures: "
        + ", ".join(f"{count} x {status}" for status, count in statuses.items()),
    )
    assert livez
    assert set(livez) == {200}
    assert_clean_problems(failures)
    assert failures, "the outage went unnoticed: the database was not really stopped"
    assert load.recovered_in(restarted) <= RECOVERED_WITHIN_S
    assert same_process
    assert found == len(load.acknowledged) > 0


@contextmanager
def table_locked(postgres: PostgresServer, database_url: str, table: str) -> Iterator[None]:
    """Hold an exclusive lock on table in an open transaction: statements on it wait."""
    psql = subprocess.Popen(
        [str(postgres.bindir / "psql"), "-h", "127.0.0.1", "-p", str(postgres.port),
         "-U", postgres.user, "-d", database_url.rsplit("/", 1)[1], "-qAt", "-v",
         "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    psql.stdin.write(f"BEGIN;\nLOCK TABLE {table} IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n")
    psql.stdin.flush()
    assert psql.stdout.readline().strip() == "locked"
    try:
        yield
    finally:
        psql.communicate("COMMIT;\n", timeout=30)


def test_pool_exhaustion_queues_then_answers_503_never_hangs(postgres, seeded_database, report):
    pool_size, overflow, sent = 1, 1, 6
    capacity = pool_size + overflow
    service = ServiceProcess(
        seeded_database,
        workers=1,
        DB_POOL_SIZE=str(pool_size),
        DB_MAX_OVERFLOW=str(overflow),
        DB_POOL_TIMEOUT_S="2",
        # The lock, not a statement timeout, decides how long the held connections wait.
        DB_STATEMENT_TIMEOUT_MS="0",
    )
    try:
        service.start(timeout=START_TIMEOUT_S)
        with ThreadPoolExecutor(sent) as pool:
            with table_locked(postgres, seeded_database, "items"):
                requests = [
                    pool.submit(httpx.get, f"{service.url}/api/v1/items", timeout=30)
                    for _ in range(sent)
                ]
                completed = as_completed(requests, timeout=30)
                while_locked = [next(completed).result() for _ in range(sent - capacity)]
                ready_while_exhausted = status_of(f"{service.url}/readyz")
                released = time.monotonic()
            after_release = [future.result() for future in completed]
        timed(
            lambda: status_of(f"{service.url}/api/v1/items") == 200,
            timeout=RECOVERED_WITHIN_S,
            what="the API after the lock was released",
        )
        recovered_in = round(time.monotonic() - released, 1)
        metrics = httpx.get(service.metrics_url).text
    finally:
        service.close()

    responses = while_locked + after_release
    report.record(
        f"pool exhaustion ({sent} concurrent reads, pool {pool_size} + overflow {overflow}, "
        "table locked)",
        requests_sent=sent,
        failed=sum(r.status_code != 200 for r in responses),
        recovered_in_s=recovered_in,
        rows_acknowledged="-",
        rows_found="-",
        notes=f"{describe(while_locked)} while locked, {describe(after_release)} after release; "
        f"/readyz {ready_while_exhausted} while the pool was exhausted",
    )
    assert [r.status_code for r in while_locked] == [503] * (sent - capacity)
    assert {r.headers["content-type"] for r in while_locked} == {PROBLEM}
    assert [r.status_code for r in after_release] == [200] * capacity
    assert metric_sum(metrics, "db_pool_timeouts_total") == sent - capacity
    # Readiness asks whether the database answers, not whether the pool is free.
    assert ready_while_exhausted == 200


def test_statement_timeout_behind_a_lock_is_a_503(postgres, seeded_database, report):
    service = ServiceProcess(seeded_database, DB_STATEMENT_TIMEOUT_MS="500")
    try:
        service.start(timeout=START_TIMEOUT_S)
        with table_locked(postgres, seeded_database, "items"):
            while_locked = [httpx.get(f"{service.url}/api/v1/items", timeout=30) for _ in range(3)]
        after_release = [httpx.get(f"{service.url}/api/v1/items", timeout=30)]
    finally:
        service.close()

    report.record(
        "statement timeout (table locked longer than DB_STATEMENT_TIMEOUT_MS=500)",
        requests_sent=len(while_locked) + len(after_release),
        failed=sum(r.status_code != 200 for r in while_locked + after_release),
        recovered_in_s="-",
        rows_acknowledged="-",
        rows_found="-",
        notes=f"{describe(while_locked)} while locked, {describe(after_release)} after release",
    )
    assert [r.status_code for r in while_locked] == [503] * len(while_locked)
    assert {r.headers["content-type"] for r in while_locked} == {PROBLEM}
    assert [r.status_code for r in after_release] == [200]
