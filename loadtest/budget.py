"""A CPU budget for a process tree, enforced the way Kubernetes enforces a pod's CPU limit.

Kubernetes turns `resources.limits.cpu` into a CFS quota on the pod's cgroup: per 100 ms
period the group may run `limit x 100 ms` of CPU time on any cores, then it is throttled
until the next period. A container engine's `--cpus` does the same (and `--memory` sets the
memory limit); `ContainerBudget` reads back the groups the engine made for a container.
Without an engine, `CfsBudget` makes such a group under the cgroup v1 cpu controller (or a
cgroup v2 child with cpu.max) and starts host processes inside it; where no cgroup is
writable, `AffinityBudget` pins the processes to `limit` cores instead. That caps CPU the
same way on average but never throttles, so reports say which one was used.

The groups also get the largest cpu.shares/cpu.weight: on a machine shared with other work
the quota, not the neighbours, should be what limits the service.
"""

import contextlib
import math
import os
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _v1_cpu_mount(root: Path) -> Path | None:
    for name in ("cpu,cpuacct", "cpu"):
        mount = root / name
        if (mount / "cpu.cfs_quota_us").exists():
            return mount
    return None


def _rmdir_once_empty(path: Path) -> None:
    """A group can only go once it is empty; the caller has stopped its processes, but
    exiting ones may linger for a moment."""
    if not path.exists():
        return
    for _ in range(50):
        try:
            path.rmdir()
            return
        except OSError:
            time.sleep(0.1)
    path.rmdir()


class CgroupReadings:
    """What the kernel holds for one cpu cgroup (`path`): its quota, members, throttling, and
    CPU time used (cgroup v1: in the cpuacct group at `usage_path`)."""

    path: Path
    usage_path: Path
    v2: bool

    def quota_cpus(self) -> float:
        """The limit as the kernel holds it, read back from the group."""
        if self.v2:
            quota, period = (self.path / "cpu.max").read_text().split()
        else:
            quota = (self.path / "cpu.cfs_quota_us").read_text()
            period = (self.path / "cpu.cfs_period_us").read_text()
        return int(quota) / int(period)

    def pids(self) -> list[int]:
        return [int(pid) for pid in (self.path / "cgroup.procs").read_text().split()]

    def _cpu_stat(self) -> dict[str, int]:
        lines = (self.path / "cpu.stat").read_text().splitlines()
        return {key: int(value) for key, value in (line.split() for line in lines)}

    def throttled_s(self) -> float:
        """Seconds the group has been held back by its quota so far."""
        if self.v2:
            return self._cpu_stat().get("throttled_usec", 0) / 1e6
        return self._cpu_stat().get("throttled_time", 0) / 1e9

    def cpu_s(self) -> float | None:
        """CPU seconds the group's processes have used so far; None where cgroup v1 keeps
        the count in a cpuacct group this one does not have."""
        if self.v2:
            return self._cpu_stat()["usage_usec"] / 1e6
        usage = self.usage_path / "cpuacct.usage"
        return int(usage.read_text()) / 1e9 if usage.exists() else None


class CfsBudget(CgroupReadings):
    """A fresh cgroup with a CFS quota of `cpus` CPUs; processes join it before they exec."""

    kind = "host cgroup CFS quota"

    def __init__(self, cpus: float, name: str, root: Path = CGROUP_ROOT) -> None:
        self.cpus = cpus
        mount = _v1_cpu_mount(root)
        self.v2 = mount is None
        if self.v2 and "cpu" not in _read(root / "cgroup.subtree_control").split():
            raise PermissionError(f"no cgroup v1 cpu controller and no v2 cpu under {root}")
        self.path = self.usage_path = (mount or root) / name
        self.path.mkdir()
        quota = int(cpus * PERIOD_US)
        if self.v2:
            (self.path / "cpu.max").write_text(f"{quota} {PERIOD_US}")
            (self.path / "cpu.weight").write_text("10000")
        else:
            (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
            (self.path / "cpu.cfs_quota_us").write_text(str(quota))
            (self.path / "cpu.shares").write_text("262144")

    def describe(self) -> str:
        return f"{self.kind} {self.cpus:g} CPU ({self.path})"

    def preexec(self) -> None:
        """For subprocess.Popen(preexec_fn=...): the child and all it forks run in the group."""
        (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def add(self, pid: int) -> None:
        (self.path / "cgroup.procs").write_text(str(pid))

    def close(self) -> None:
        _rmdir_once_empty(self.path)


class ContainerBudget(CgroupReadings):
    """The cgroups an engine made for a container from `--cpus`/`--memory`, found through
    the container's PID 1: what the kernel enforces on it, read back rather than assumed."""

    def __init__(self, pid: int, kind: str, root: Path = CGROUP_ROOT) -> None:
        self.kind = kind
        groups = {}
        for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(","):
                groups[controller] = path.lstrip("/")
        mount = _v1_cpu_mount(root)
        self.v2 = mount is None
        if self.v2:
            self.path = self.usage_path = self.memory_path = root / groups[""]
        else:
            self.path = mount / groups["cpu"]
            accounting = mount if (mount / "cpuacct.usage").exists() else root / "cpuacct"
            self.usage_path = accounting / groups["cpuacct"]
            self.memory_path = root / "memory" / groups["memory"]

    def memory_limit_mb(self) -> float:
        if self.v2:
            return int((self.memory_path / "memory.max").read_text()) / 2**20
        return int((self.memory_path / "memory.limit_in_bytes").read_text()) / 2**20

    def describe(self) -> str:
        return (
            f"{self.kind} {self.quota_cpus():g} CPU, {self.memory_limit_mb():g} MiB ({self.path})"
        )


class AffinityBudget:
    """`ceil(cpus)` cores by affinity: the fallback where no cgroup may be created."""

    kind = "CPU affinity"

    def __init__(self, cpus: float, name: str = "") -> None:
        available = sorted(os.sched_getaffinity(0))
        self.cpus = float(min(math.ceil(cpus), len(available)))
        self.cores = set(available[: int(self.cpus)])

    def describe(self) -> str:
        return f"{self.kind} {self.cpus:g} CPU (cores {sorted(self.cores)}; no throttling)"

    def quota_cpus(self) -> float:
        return self.cpus

    def preexec(self) -> None:
        os.sched_setaffinity(0, self.cores)

    def add(self, pid: int) -> None:
        os.sched_setaffinity(pid, self.cores)

    def throttled_s(self) -> float | None:
        return None

    def cpu_s(self) -> float | None:
        return None

    def close(self) -> None:
        pass


def cpu_budget(cpus: float, name: str) -> CfsBudget | AffinityBudget:
    """A CFS quota group where cgroups are writable, else CPU affinity."""
    try:
        return CfsBudget(cpus, name)
    except FileExistsError:
        raise
    except OSError:
        return AffinityBudget(cpus, name)


class Unlimited:
    """A group with no quota but the highest share, for what supports the measurement
    (PostgreSQL, the load generator): outside the budget, yet not starved by neighbours."""

    def __init__(self, name: str, root: Path = CGROUP_ROOT) -> None:
        self.path = None
        mount = _v1_cpu_mount(root)
        try:
            path = (mount or root) / name
            path.mkdir()
            (path / ("cpu.shares" if mount else "cpu.weight")).write_text(
                "262144" if mount else "10000"
            )
            self.path = path
        except OSError:
            pass

    def add(self, pid: int) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):  # the process exited meanwhile
                (self.path / "cgroup.procs").write_text(str(pid))

    def preexec(self) -> None:
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def close(self) -> None:
        if self.path is not None:
            for pid in (self.path / "cgroup.procs").read_text().split():
                (self.path.parent / "cgroup.procs").write_text(pid)
            self.path.rmdir()


class EngineParent(Unlimited):
    """The parent group (`--cgroup-parent`) of the study's containers, with the highest share.
    The engine (cgroupfs manager) adds the same path under every controller, with a child for
    its monitor processes (conmon); close() removes them all once the containers are gone."""

    def __init__(self, name: str, root: Path = CGROUP_ROOT) -> None:
        super().__init__(name, root)
        self.root = root

    def close(self) -> None:
        if self.path is None:
            return
        # cgroup v1: one such group per controller; v2: the one, self.path.
        for group in dict.fromkeys([self.path, *self.root.glob(f"*/{self.path.name}")]):
            for child in group.glob("*/"):
                _rmdir_once_empty(child)
            _rmdir_once_empty(group)
