"""The scaling study's budgets really constrain what runs in them, as a pod's limits would:
the container engine's --cpus/--memory, and the host cgroup and affinity fallbacks."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.net import free_port
from loadtest.budget import AffinityBudget, CfsBudget, cpu_budget
from loadtest.procs import ContainerServer, descendants, service_env

REPO = Path(__file__).resolve().parents[2]
ITEMS_API = Path(sys.executable).parent / "items-api"
# Two busy processes: together they want 2 CPUs, more than the budgets below allow.
BURN = "import os, time\nos.fork()\nend = time.time() + 1.5\nwhile time.time() < end: pass\n"


@pytest.fixture
def cfs_budget():
    try:
        budget = CfsBudget(0.5, f"items-api-test-{os.getpid()}")
    except OSError as error:
        pytest.skip(f"no writable cgroup cpu controller here ({error}); AffinityBudget is used")
    yield budget
    budget.close()


def own_cgroup(pid: int) -> str:
    lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    return next(line.split(":", 2)[2] for line in lines if "cpu" in line.split(":")[1].split(","))


def test_a_process_started_in_the_budget_runs_under_its_quota(cfs_budget):
    assert cfs_budget.quota_cpus() == 0.5
    process = subprocess.Popen(["sleep", "30"], preexec_fn=cfs_budget.preexec)
    try:
        assert own_cgroup(process.pid) == f"/{cfs_budget.path.name}"
        assert process.pid in cfs_budget.pids()
    finally:
        process.kill()
        process.wait()


def test_work_beyond_the_quota_is_throttled(cfs_budget):
    before = cfs_budget.throttled_s()
    subprocess.run([sys.executable, "-c", BURN], preexec_fn=cfs_budget.preexec, check=True)
    stat = dict(line.split() for line in (cfs_budget.path / "cpu.stat").read_text().splitlines())
    assert int(stat["nr_throttled"]) > 0
    assert cfs_budget.throttled_s() > before


def test_the_service_formula_reads_the_quota_back(cfs_budget):
    result = subprocess.run(
        [str(ITEMS_API), "workers"], preexec_fn=cfs_budget.preexec, capture_output=True,
        text=True, check=True, env={**os.environ, "ENVIRONMENT": "test"},
    )  # fmt: skip
    plan = json.loads(result.stdout)
    assert plan["cpus"] == 0.5
    assert plan["workers"] == 1
    assert "cfs" in plan["source"] or "cpu.max" in plan["source"]


def test_the_affinity_fallback_pins_the_process_to_that_many_cores():
    budget = AffinityBudget(1)
    process = subprocess.Popen(["sleep", "30"], preexec_fn=budget.preexec)
    try:
        assert os.sched_getaffinity(process.pid) == budget.cores
        assert len(budget.cores) == 1
        assert budget.throttled_s() is None
    finally:
        process.kill()
        process.wait()


def test_cpu_budget_reports_which_mechanism_holds_the_limit():
    budget = cpu_budget(1, f"items-api-test-choice-{os.getpid()}")
    try:
        assert budget.quota_cpus() == 1
        assert budget.kind in budget.describe()
    finally:
        budget.close()


def test_a_budget_can_be_removed_once_its_processes_are_gone(cfs_budget):
    process = subprocess.Popen(["sleep", "0.2"], preexec_fn=cfs_budget.preexec)
    process.wait()
    time.sleep(0.1)
    cfs_budget.close()
    assert not cfs_budget.path.exists()


@pytest.fixture
def container_cell(engine, image, database_url):
    """The study's container cell, gunicorn with the image's own worker count, under 0.5 CPU
    and 384 MiB."""
    server = ContainerServer(
        engine, image, f"items-api-budget-test-{os.getpid()}", port=free_port(), cpus=0.5,
        memory_mb=384, env=service_env(database_url),
    )  # fmt: skip
    with server:
        yield server


@pytest.mark.container
@pytest.mark.slow
def test_the_container_runs_under_the_cpu_and_memory_limits_it_was_given(container_cell):
    budget = container_cell.budget
    if budget.v2:
        assert (budget.path / "cpu.max").read_text().split() == ["50000", "100000"]
        assert int((budget.memory_path / "memory.max").read_text()) == 384 * 2**20
    else:
        assert int((budget.path / "cpu.cfs_quota_us").read_text()) == 50_000
        assert int((budget.path / "cpu.cfs_period_us").read_text()) == 100_000
        assert int((budget.memory_path / "memory.limit_in_bytes").read_text()) == 384 * 2**20
    assert budget.describe().endswith(f"0.5 CPU, 384 MiB ({budget.path})")
    # Every process of the image, gunicorn's master (the container's PID 1) and its worker,
    # is in that group.
    master = container_cell.container.host_pid()
    assert set(descendants(master)) == set(budget.pids())
    assert len(budget.pids()) == 2
    # The image's own formula sees the same limits from inside.
    plan = container_cell.worker_plan()
    assert (plan["cpus"], plan["memory_limit_mb"], plan["workers"]) == (0.5, 384, 1)


@pytest.mark.container
@pytest.mark.slow
def test_work_beyond_the_container_quota_is_throttled(container_cell):
    budget = container_cell.budget
    throttled, used = budget.throttled_s(), budget.cpu_s()
    burn = container_cell.engine("exec", container_cell.name, "python", "-c", BURN)
    assert burn.returncode == 0
    assert budget.throttled_s() > throttled
    assert budget.cpu_s() > used
