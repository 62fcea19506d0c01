"""The worker formula against fake cgroup trees, as a container would see them."""

from pathlib import Path

import pytest
from app.core.workers import (
    CpuBudget,
    WorkerPlanError,
    detect_cpu_budget,
    detect_memory_limit_mb,
    plan_workers,
)

V2_SELF = "0::/\n"
V1_SELF = "5:cpu,cpuacct:/\n4:memory:/\n0::/\n"


def write(root: Path, relative: str, text: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def plan(cpus: float, source="test", memory_limit_mb=None, **overrides):
    options = {"workers_per_cpu": 1.0, "max_workers": 8, "worker_memory_mb": 120}
    options.update(overrides)
    return plan_workers(cpu=CpuBudget(cpus, source), memory_limit_mb=memory_limit_mb, **options)


def test_v2_half_cpu_quota_gives_one_worker(tmp_path):
    write(tmp_path, "cpu.max", "50000 100000\n")
    budget = detect_cpu_budget(tmp_path, V2_SELF, available_cpus=64)
    assert budget == CpuBudget(0.5, "cgroup-v2 cpu.max")
    assert plan(budget.cpus).workers == 1


def test_v2_max_means_the_host_cores(tmp_path):
    write(tmp_path, "cpu.max", "max 100000\n")
    assert detect_cpu_budget(tmp_path, V2_SELF, available_cpus=6) == CpuBudget(6.0, "cpu affinity")


def test_v2_nested_group_takes_the_tightest_ancestor(tmp_path):
    write(tmp_path, "kubepods/cpu.max", "200000 100000\n")
    write(tmp_path, "kubepods/pod1/ctr/cpu.max", "max 100000\n")
    budget = detect_cpu_budget(tmp_path, "0::/kubepods/pod1/ctr\n", available_cpus=64)
    assert budget.cpus == 2.0


def test_v1_cfs_quota(tmp_path):
    write(tmp_path, "cpu,cpuacct/cpu.cfs_quota_us", "150000\n")
    write(tmp_path, "cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    budget = detect_cpu_budget(tmp_path, V1_SELF, available_cpus=64)
    assert budget == CpuBudget(1.5, "cgroup-v1 cfs quota")
    assert plan(budget.cpus).workers == 2


def test_v1_unlimited_quota_falls_back_to_affinity(tmp_path):
    write(tmp_path, "cpu,cpuacct/cpu.cfs_quota_us", "-1\n")
    write(tmp_path, "cpu,cpuacct/cpu.cfs_period_us", "100000\n")
    assert detect_cpu_budget(tmp_path, V1_SELF, available_cpus=3) == CpuBudget(3.0, "cpu affinity")


def test_quota_above_affinity_is_capped_by_affinity(tmp_path):
    write(tmp_path, "cpu.max", "800000 100000\n")
    assert detect_cpu_budget(tmp_path, V2_SELF, available_cpus=2).cpus == 2


def test_no_cgroup_files_means_affinity(tmp_path):
    assert detect_cpu_budget(tmp_path, "", available_cpus=4) == CpuBudget(4.0, "cpu affinity")


def test_memory_limits_v1_and_v2(tmp_path):
    write(tmp_path, "memory.max", str(512 * 1024 * 1024))
    assert detect_memory_limit_mb(tmp_path, V2_SELF) == 512
    v1 = tmp_path / "v1"
    write(v1, "memory/memory.limit_in_bytes", str(9223372036854771712))
    assert detect_memory_limit_mb(v1, V1_SELF) is None


def test_many_cores_are_capped_by_max_workers():
    assert plan(64).workers == 8
    assert plan(64, max_workers=4).workers == 4


def test_workers_per_cpu_scales_and_rounds_up():
    assert plan(1.5, workers_per_cpu=2).workers == 3


def test_memory_limit_lowers_the_count_and_says_so():
    lowered = plan(8, memory_limit_mb=300)
    assert lowered.workers == 2
    assert "lowered to fit 300 MiB" in lowered.source


def test_web_concurrency_overrides_but_must_fit_in_memory():
    assert plan(1, web_concurrency=3).workers == 3
    assert plan(1, web_concurrency=3).source == "WEB_CONCURRENCY"
    with pytest.raises(WorkerPlanError, match="WEB_CONCURRENCY=5 does not fit"):
        plan(2, memory_limit_mb=400, web_concurrency=5)
