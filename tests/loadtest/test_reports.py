"""The scaling study and the benchmark, run briefly, write the reports the README quotes."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtest.scaling import fixed_rate, models

REPO = Path(__file__).resolve().parents[2]


def test_every_limit_gets_one_two_rules_four_and_plain_uvicorn():
    assert models(1) == [
        ("gunicorn 1 (1=limit)", 1),
        ("gunicorn 3 (2xlimit+1)", 3),
        ("gunicorn 4 (4)", 4),
        ("uvicorn 1 (no gunicorn)", None),
    ]
    assert [workers for _, workers in models(2)] == [1, 2, 4, 5, None]


def test_the_fixed_rate_is_below_the_slowest_saturation_in_round_figures():
    assert fixed_rate(479) == 230
    assert fixed_rate(33) == 16
    assert fixed_rate(4) == 5
    assert fixed_rate(100_000) == 300


def run(module: str, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", module, *args], cwd=REPO, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_the_scaling_study_writes_json_markdown_and_a_chart(tmp_path):
    run("loadtest.scaling", "--target", "host", "--limits", "1", "--workloads", "ping",
        "--seconds", "1", "--rounds", "1", "--latency-seconds", "3",
        "--out", str(tmp_path))  # fmt: skip

    report = json.loads((tmp_path / "worker-scaling.json").read_text())
    assert report["machine"]["load_average_before"]
    (limit,) = report["limits"]
    assert limit["cpus"] == 1
    assert limit["formula"]["workers"] == 1
    assert [m["workers"] for m in limit["models"]] == [1, 3, 4, None]
    for model in limit["models"]:
        saturation, fixed = model["saturation"]["ping"], model["fixed_rate"]["ping"]
        assert saturation["rps"] > 0
        assert saturation["errors"] == 0
        assert {"p50", "p95", "p99"} <= fixed["latency_ms"].keys()
        assert "throttled_s" in saturation
        assert model["memory"]["rss_mb_total"] > 0
    markdown = (tmp_path / "worker-scaling.md").read_text()
    assert "| gunicorn 3 (2xlimit+1) |" in markdown
    assert (tmp_path / "worker-scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_the_benchmark_writes_ratios_memory_and_start_up(tmp_path):
    run("loadtest.bench", "--seconds", "1", "--rounds", "2", "--no-image", "--list-rows", "5000",
        "--out", str(tmp_path))  # fmt: skip

    report = json.loads((tmp_path / "bench.json").read_text())
    for ratio in ("middleware_vs_bare_fastapi", "nginx_vs_direct", "db_route_vs_raw_asyncpg",
                  "create_vs_raw_asyncpg"):  # fmt: skip
        assert report["ratios"][ratio] > 0
    assert report["rss_mb_per_worker"] > 0
    assert report["start_to_ready_s"] > 0
    for case in report["cases"].values():
        assert case["errors"] == 0, case
        assert case["cpu_us_per_request"] > 0, case
    # Both sides of each ratio were measured in every round, and each shows its median round.
    for name in ("bare_fastapi", "service_direct", "service_nginx", "raw_asyncpg_create"):
        rounds = report["cases"][name]["rounds_rps"]
        assert len(rounds) == 2
        assert round(report["cases"][name]["rps"]) == min(rounds)
    assert {kind: count["round_trips"] for kind, count in report["round_trips"].items()} == {
        "read": 1, "list": 1, "create": 1, "delete": 2,
    }  # fmt: skip
    assert report["list_scaling"]["rows"] == [1000, 5000]
    assert report["list_scaling"]["list_prefix"]["p50_ms"][1] > 0
    for request in ("read", "create"):
        assert list(report["tails"][request]) == ["8", "16", "32", "64"]
        assert all(run["p99_over_p50"] >= 1 for run in report["tails"][request].values())
    markdown = (tmp_path / "bench.md").read_text()
    for section in ("## Ratios", "## Round trips", "## Lists at 1,000 and 5,000 rows",
                    "## Tails of POST /api/v1/items"):  # fmt: skip
        assert section in markdown
