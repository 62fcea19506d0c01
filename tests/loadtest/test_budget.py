"""The scaling study's CPU budget really constrains what runs in it, as a pod limit would."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loadtest.budget import AffinityBudget, CfsBudget, cpu_budget

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
