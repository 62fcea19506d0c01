"""The scaling study on the real image: a tiny run's record has every figure the report needs,
taken under the limits the engine enforced, and names the mechanism that held them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.scaling import models

REPO = Path(__file__).resolve().parents[2]


def test_the_image_formula_joins_the_model_it_equals_or_adds_one():
    assert models(1, formula=1)[0] == ("gunicorn 1 (1=limit=formula)", 1)
    assert models(2, ("4", "formula"), formula=3) == [
        ("gunicorn 3 (formula)", 3),
        ("gunicorn 4 (4)", 4),
    ]
    assert models(1, ("uvicorn",), formula=1) == [("uvicorn 1 (no gunicorn)", None)]


@pytest.mark.container
@pytest.mark.slow
def test_a_tiny_container_study_records_each_cell_under_the_pod_limits(engine, image, tmp_path):
    # 256 MiB per CPU: one worker fits, four do not (60 + 4 x 120 MiB), so the image refuses
    # WEB_CONCURRENCY=4 and the study measures that model under the smallest limit it takes.
    result = subprocess.run(
        [sys.executable, "-m", "loadtest.scaling", "--target", "container", "--image", image,
         "--limits", "1", "--models", "limit,4", "--memory-per-cpu", "256",
         "--workloads", "ping", "--seconds", "1", "--rounds", "1", "--latency-seconds", "2",
         "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    report = json.loads((tmp_path / "worker-scaling.json").read_text())
    assert report["budget"].startswith(f"{engine.command} --cpus/--memory (real image {image}, ")
    assert report["settings"]["target"] == "container"
    (limit,) = report["limits"]
    assert " 1 CPU, 256 MiB (" in limit["budget"]
    assert limit["formula"]["workers"] == 1
    assert limit["formula"]["source"].startswith(("cgroup-v1 cfs quota", "cgroup-v2 cpu.max"))
    assert limit["formula"]["memory_limit_mb"] == 256

    one, four = limit["models"]
    assert (one["workers"], one["memory_limit_mb"]) == (1, 256)
    assert "refused_at_pod_memory" not in one
    assert (four["workers"], four["memory_limit_mb"]) == (4, 576)
    refused = four["refused_at_pod_memory"]
    assert "WEB_CONCURRENCY=4 does not fit the memory limit of 256 MiB" in refused
    for model, processes in ((one, 2), (four, 5)):
        saturation, fixed = model["saturation"]["ping"], model["fixed_rate"]["ping"]
        assert saturation["rps"] > 0
        assert saturation["errors"] == fixed["errors"] == 0
        assert {"p50", "p95", "p99"} <= fixed["latency_ms"].keys()
        assert isinstance(saturation["throttled_s"], float)
        assert saturation["cpu_s"] > 0
        assert model["memory"]["rss_mb_total"] > 0
        assert model["memory"]["processes"] == processes
    # The containers' parent group, in every controller, is gone with the study.
    parent = Path(limit["budget"].rsplit("(", 1)[1].rstrip(")")).parent
    assert parent.name.startswith("items-api-scaling-")
    assert not list(Path("/sys/fs/cgroup").glob(f"**/{parent.name}"))
    markdown = (tmp_path / "worker-scaling.md").read_text()
    assert report["budget"] in markdown
    assert "refused to start" in markdown
