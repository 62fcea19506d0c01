"""The chart's worker count (for the connection budget) equals what the service will start
under the same limits: the kubelet turns the CPU limit into the CFS quota and the memory limit
into memory.max, which app.core.workers reads."""

import json

import pytest
from app.core.workers import CpuBudget, plan_workers

from tests.chart.render import SECRETS, one, render

MiB = 1024 * 1024


@pytest.mark.parametrize(
    # cpu limit, the cpus its CFS quota gives; memory limit, the bytes of its memory.max
    ("cpu", "cpus", "memory", "memory_bytes", "per_cpu", "max_workers", "worker_mb", "fixed"),
    [
        ("1", 1.0, "512Mi", 512 * MiB, 1, 8, 120, 0),
        ("500m", 0.5, "512Mi", 512 * MiB, 1, 8, 120, 0),
        ("1500m", 1.5, "2Gi", 2048 * MiB, 1, 8, 120, 0),
        ("2", 2.0, "1Gi", 1024 * MiB, 2, 8, 120, 0),
        ("4", 4.0, "512Mi", 512 * MiB, 2, 8, 120, 0),
        ("8", 8.0, "8Gi", 8192 * MiB, 3, 8, 120, 0),
        ("250m", 0.25, "256Mi", 256 * MiB, 1.5, 8, 64, 0),
        ("3", 3.0, "1G", 10**9, 1, 8, 120, 0),
        (2.5, 2.5, 1073741824, 1024 * MiB, 1, 2, 120, 0),
        ("2", 2.0, None, None, 4, 6, 120, 0),
        ("1", 1.0, "1Gi", 1024 * MiB, 1, 8, 120, 3),
    ],
)  # fmt: skip
def test_chart_and_service_agree_on_workers(
    cpu, cpus, memory, memory_bytes, per_cpu, max_workers, worker_mb, fixed
):
    values = {
        # null drops the default memory limit, as `memory: null` in a values file would.
        "resources.limits": {"cpu": cpu, "memory": memory},
        "workers": {"perCpu": per_cpu, "max": max_workers, "memoryPerWorkerMb": worker_mb,
                    "webConcurrency": fixed},
    }  # fmt: skip
    args = [f"--set-json={key}={json.dumps(value)}" for key, value in values.items()]
    deployment = one(render(*SECRETS, *args), "Deployment")
    chart = int(deployment["metadata"]["annotations"]["items-api/workers-per-pod"])

    service = plan_workers(
        cpu=CpuBudget(cpus, "cfs quota"),
        memory_limit_mb=memory_bytes // MiB if memory_bytes else None,
        workers_per_cpu=per_cpu,
        max_workers=max_workers,
        worker_memory_mb=worker_mb,
        web_concurrency=fixed or None,
    )
    assert chart == service.workers, service.source


def test_the_settings_the_formula_reads_reach_the_pods():
    config = one(render(*SECRETS, "--set-json", "workers.perCpu=1.5", "--set", "workers.max=4"),
                 "ConfigMap")["data"]  # fmt: skip
    assert (config["WORKERS_PER_CPU"], config["MAX_WORKERS"], config["WORKER_MEMORY_MB"]) == (
        "1.5", "4", "120")  # fmt: skip
    assert "WEB_CONCURRENCY" not in config
