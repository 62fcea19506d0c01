"""How many gunicorn workers a process may run: the one definition of the formula.

cpus    = the CFS quota the container runs under (cgroup v2 cpu.max, v1 cfs_quota/period),
          else the CPUs this process may be scheduled on (affinity);
workers = clamp(ceil(cpus * WORKERS_PER_CPU), 1, MAX_WORKERS), lowered further so that
          workers * WORKER_MEMORY_MB fits under the memory limit.
WEB_CONCURRENCY overrides the formula but is refused when it cannot fit in memory.

os.cpu_count() reports the node's cores, not the pod's limit: a pod limited to 1 CPU on a
64-core node would otherwise start 129 workers and be OOM-killed.
"""

import math
import os
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
MASTER_MEMORY_MB = 60


@dataclass(frozen=True)
class CpuBudget:
    cpus: float
    source: str


@dataclass(frozen=True)
class WorkerPlan:
    workers: int
    source: str
    cpus: float
    memory_limit_mb: int | None

    def as_dict(self) -> dict[str, object]:
        return {
            "workers": self.workers,
            "source": self.source,
            "cpus": round(self.cpus, 3),
            "memory_limit_mb": self.memory_limit_mb,
        }


class WorkerPlanError(ValueError):
    """The requested worker count cannot run inside the container's limits."""


def _own_cgroup_dirs(root: Path, proc_cgroup: str, controller: str | None) -> list[Path]:
    """This process's cgroup directory and its ancestors, deepest first.

    controller=None means the cgroup v2 unified hierarchy.
    """
    for line in proc_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controller is None and controllers == "":
            mount = root
        elif controller is not None and controller in controllers.split(","):
            mount = root / controllers
            if not mount.is_dir():
                mount = root / controller
        else:
            continue
        # Inside a container the recorded path may belong to the host's view; fall back to the
        # mount root, which is then the container's own cgroup.
        relative = Path(path.lstrip("/"))
        dirs = [mount / relative.parents[i] for i in range(len(relative.parents))]
        if relative != Path("."):
            dirs.insert(0, mount / relative)
        return [d for d in dirs if d.is_dir()] or [mount]
    return []


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _quota_cpus_v2(dirs: list[Path]) -> float | None:
    limits = []
    for directory in dirs:
        text = _read(directory / "cpu.max")
        if text and not text.startswith("max"):
            quota, period = text.split()
            limits.append(int(quota) / int(period))
    return min(limits) if limits else None


def _quota_cpus_v1(dirs: list[Path]) -> float | None:
    limits = []
    for directory in dirs:
        quota, period = (
            _read(directory / "cpu.cfs_quota_us"),
            _read(directory / "cpu.cfs_period_us"),
        )
        if quota and period and int(quota) > 0:
            limits.append(int(quota) / int(period))
    return min(limits) if limits else None


def affinity_cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def detect_cpu_budget(
    root: Path = CGROUP_ROOT,
    proc_cgroup: str | None = None,
    available_cpus: int | None = None,
) -> CpuBudget:
    if proc_cgroup is None:
        proc_cgroup = _read(PROC_SELF_CGROUP) or ""
    available = available_cpus if available_cpus is not None else affinity_cpus()
    v2 = _quota_cpus_v2(_own_cgroup_dirs(root, proc_cgroup, None))
    if v2 is not None:
        return CpuBudget(min(v2, available), "cgroup-v2 cpu.max")
    v1 = _quota_cpus_v1(_own_cgroup_dirs(root, proc_cgroup, "cpu"))
    if v1 is not None:
        return CpuBudget(min(v1, available), "cgroup-v1 cfs quota")
    return CpuBudget(float(available), "cpu affinity")


def detect_memory_limit_mb(root: Path = CGROUP_ROOT, proc_cgroup: str | None = None) -> int | None:
    if proc_cgroup is None:
        proc_cgroup = _read(PROC_SELF_CGROUP) or ""
    limits = []
    for directory in _own_cgroup_dirs(root, proc_cgroup, None):
        text = _read(directory / "memory.max")
        if text and text != "max":
            limits.append(int(text))
    for directory in _own_cgroup_dirs(root, proc_cgroup, "memory"):
        text = _read(directory / "memory.limit_in_bytes")
        # cgroup v1 reports "no limit" as a page-rounded huge number.
        if text and int(text) < 1 << 60:
            limits.append(int(text))
    return min(limits) // (1024 * 1024) if limits else None


def plan_workers(
    *,
    cpu: CpuBudget,
    memory_limit_mb: int | None,
    workers_per_cpu: float,
    max_workers: int,
    worker_memory_mb: int,
    web_concurrency: int | None = None,
) -> WorkerPlan:
    fits_in_memory = None
    if memory_limit_mb is not None:
        fits_in_memory = max(1, (memory_limit_mb - MASTER_MEMORY_MB) // worker_memory_mb)
    if web_concurrency is not None:
        if fits_in_memory is not None and web_concurrency > fits_in_memory:
            raise WorkerPlanError(
                f"WEB_CONCURRENCY={web_concurrency} does not fit the memory limit of "
                f"{memory_limit_mb} MiB: at WORKER_MEMORY_MB={worker_memory_mb} at most "
                f"{fits_in_memory} workers fit; lower WEB_CONCURRENCY or raise the limit"
            )
        return WorkerPlan(web_concurrency, "WEB_CONCURRENCY", cpu.cpus, memory_limit_mb)
    workers = max(1, min(math.ceil(cpu.cpus * workers_per_cpu), max_workers))
    source = f"{cpu.source} ({cpu.cpus:g} cpu x {workers_per_cpu:g}, max {max_workers})"
    if fits_in_memory is not None and workers > fits_in_memory:
        workers = fits_in_memory
        source += f", lowered to fit {memory_limit_mb} MiB"
    return WorkerPlan(workers, source, cpu.cpus, memory_limit_mb)


def plan_from_settings(settings) -> WorkerPlan:
    return plan_workers(
        cpu=detect_cpu_budget(),
        memory_limit_mb=detect_memory_limit_mb(),
        workers_per_cpu=settings.WORKERS_PER_CPU,
        max_workers=settings.MAX_WORKERS,
        worker_memory_mb=settings.WORKER_MEMORY_MB,
        web_concurrency=settings.WEB_CONCURRENCY,
    )
