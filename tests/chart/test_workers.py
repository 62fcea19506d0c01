"""The service computes its worker count from the limits the kubelet sets (app/core/workers.py);
the chart only hands it the formula's settings and budgets for the most workers a pod can start
(tests/chart/test_values_guards.py)."""

from tests.chart.render import SECRETS, one, render


def test_the_settings_the_formula_reads_reach_the_pods():
    config = one(render(*SECRETS, "--set-json", "workers.perCpu=1.5", "--set", "workers.max=4"),
                 "ConfigMap")["data"]  # fmt: skip
    assert (config["WORKERS_PER_CPU"], config["MAX_WORKERS"], config["WORKER_MEMORY_MB"]) == (
        "1.5", "4", "120")  # fmt: skip
    assert "WEB_CONCURRENCY" not in config
    fixed = one(render(*SECRETS, "--set", "workers.webConcurrency=2"), "ConfigMap")["data"]
    assert fixed["WEB_CONCURRENCY"] == "2"
