"""The image as Kubernetes runs it: hardened, under CPU and memory limits, stopped by SIGTERM."""

import json
import os
import threading
import time

import httpx
import pytest
from app.core.config import Settings
from app.core.workers import CpuBudget, plan_workers

from harness.container import HARDENED, WAIT_CEILING_S
from harness.wait import eventually
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.image.conftest import FIGURES, admin_token, baked_env

pytestmark = [pytest.mark.container, pytest.mark.slow]


def worker_plan(container) -> dict:
    """The worker count and its source, as gunicorn logged them at startup."""
    plans = [record for record in container.log_records() if "workers" in record]
    assert len(plans) == 1, container.logs()
    return {key: plans[0][key] for key in ("workers", "source")}


def wait_for_workers(container, count: int, timeout: float = WAIT_CEILING_S) -> list[int]:
    def pids_if_complete() -> list[int]:
        pids = container.worker_pids()
        assert len(pids) == count, f"{pids} is not {count} workers:\n{container.logs()}"
        return pids

    return eventually(pids_if_complete, f"{count} workers", timeout=timeout, every=0.1)


def test_hardened_container_serves_the_api_against_postgres(run_image, cli, database_url, image):
    created = cli(
        "create-admin", database_url=database_url,
        env={"ADMIN_EMAIL": ADMIN_EMAIL, "ADMIN_PASSWORD": ADMIN_PASSWORD},
    )  # fmt: skip
    assert created.returncode == 0, created.stderr

    container = run_image(*HARDENED, env={"DATABASE_URL": database_url})
    FIGURES["start to ready"] = f"{container.wait_until_ready():.2f} s (--read-only, 2 workers)"

    headers = {"Authorization": f"Bearer {admin_token(container.url)}"}
    item = {"name": "image-test", "price": "12.50", "tags": ["container"]}
    response = httpx.post(f"{container.url}/api/v1/items", json=item, headers=headers)
    assert response.status_code == 201, response.text
    fetched = httpx.get(f"{container.url}/api/v1/items/{response.json()['id']}")
    assert fetched.json()["price"] == "12.50"

    baked = baked_env(container.engine, image)
    version = httpx.get(f"{container.url}/version").json()
    assert version == {"version": baked["APP_VERSION"], "git_sha": baked["GIT_SHA"]}
    assert baked["GIT_SHA"] not in ("", "unknown")

    problems = [r for r in container.log_records() if r.get("level") in ("ERROR", "CRITICAL")]
    assert problems == []


def test_migrations_run_from_the_image(cli, postgres, run_image):
    postgres.psql("CREATE DATABASE image_migrate")
    url = postgres.url("image_migrate")

    for _ in range(2):  # the chart's hook Job runs it on every upgrade
        migrated = cli("migrate", database_url=url)
        assert migrated.returncode == 0, migrated.stderr
    assert postgres.psql("SELECT count(*) FROM alembic_version", "image_migrate") == "1"

    run_image(*HARDENED, env={"DATABASE_URL": url}).wait_until_ready()


@pytest.mark.parametrize("cpus", [1, 2])
def test_worker_count_follows_the_cpu_limit(run_image, cli, database_url, cpus):
    if cpus > len(os.sched_getaffinity(0)):
        pytest.skip(f"--cpus {cpus} needs {cpus} CPUs; this machine has fewer")
    container = run_image(*HARDENED, f"--cpus={cpus}", env={"DATABASE_URL": database_url})
    container.wait_until_ready()

    defaults = Settings.model_fields
    expected = plan_workers(
        cpu=CpuBudget(float(cpus), "quota"),
        memory_limit_mb=None,
        workers_per_cpu=defaults["WORKERS_PER_CPU"].default,
        max_workers=defaults["MAX_WORKERS"].default,
        worker_memory_mb=defaults["WORKER_MEMORY_MB"].default,
    ).workers
    plan = worker_plan(container)
    assert plan["workers"] == expected
    assert plan["source"].startswith(("cgroup-v1 cfs quota", "cgroup-v2 cpu.max"))
    assert len(wait_for_workers(container, expected)) == expected

    reported = cli("workers", database_url=database_url, options=(f"--cpus={cpus}",))
    assert reported.returncode == 0, reported.stderr
    assert {k: json.loads(reported.stdout)[k] for k in ("workers", "source")} == plan


def _rss_mb(container, pid: int) -> float:
    status = container.engine("exec", container.name, "cat", f"/proc/{pid}/status").stdout
    kilobytes = next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))
    return int(kilobytes) / 1024


def test_default_workers_fit_a_memory_limit_that_the_seed_formula_would_not(
    run_image, database_url
):
    cores = len(os.sched_getaffinity(0))
    seed_workers = 2 * cores + 1
    limit_mb = 400
    container = run_image(
        *HARDENED, f"--memory={limit_mb}m", f"--memory-swap={limit_mb}m",
        env={"DATABASE_URL": database_url},
    )  # fmt: skip
    container.wait_until_ready()
    plan = worker_plan(container)
    pids = wait_for_workers(container, plan["workers"])

    for _ in range(200):
        assert httpx.get(f"{container.url}/api/v1/items?limit=50").status_code == 200
    worker_mb = max(_rss_mb(container, pid) for pid in pids)
    master_mb = _rss_mb(container, 1)
    FIGURES["worker memory"] = f"{worker_mb:.0f} MB RSS per worker, master {master_mb:.0f} MB"
    assert container.running()
    assert container.state("OOMKilled") == "false"
    # The premise: what the seeds' 2 x cores + 1 would need does not fit this limit.
    assert master_mb + seed_workers * worker_mb > limit_mb
    assert plan["workers"] < seed_workers


def test_web_concurrency_beyond_the_memory_limit_is_refused_at_startup(run_image, database_url):
    container = run_image(
        *HARDENED, "--memory=400m", "--memory-swap=400m",
        env={"DATABASE_URL": database_url, "WEB_CONCURRENCY": "5"},
    )  # fmt: skip
    exit_code = container.wait_until_exited()
    assert exit_code != 0
    assert container.state("OOMKilled") == "false"
    assert "WEB_CONCURRENCY=5 does not fit the memory limit" in container.logs()


def slow_requests_in_flight(metrics_url: str) -> float:
    metrics = httpx.get(metrics_url).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("http_requests_inprogress{") and 'handler="/api/v1/slow"' in line
    )


def test_sigterm_completes_in_flight_requests_and_exits_zero(run_image, database_url):
    grace_s = 20
    container = run_image(
        *HARDENED, env={"DATABASE_URL": database_url, "GRACEFUL_TIMEOUT_S": str(grace_s)}
    )
    container.wait_until_ready()
    results: list[int | str] = []

    def slow_request() -> None:
        try:
            response = httpx.get(f"{container.url}/api/v1/slow?ms=5000", timeout=30)
            results.append(response.status_code)
        except httpx.HTTPError as error:
            results.append(repr(error))

    clients = [threading.Thread(target=slow_request) for _ in range(4)]
    for client in clients:
        client.start()
    eventually(
        lambda: slow_requests_in_flight(container.metrics_url) >= 4,
        "the slow requests in flight together",
        timeout=4,
    )

    # The engine's own deadline is past the grace period: a SIGKILL would show as exit 137.
    stop_started = time.monotonic()
    stopped = container.engine(
        "stop", f"--time={grace_s + 10}", container.name, timeout=grace_s + 30
    )
    FIGURES["graceful stop"] = f"{time.monotonic() - stop_started:.1f} s with 4 requests in flight"
    for client in clients:
        client.join()
    assert stopped.returncode == 0
    assert results == [200] * 4
    assert container.wait_until_exited() == 0
