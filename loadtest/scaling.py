"""The worker-scaling study: which gunicorn worker count serves best under a CPU limit.

For each CPU limit (a CFS quota, as Kubernetes sets it) and each process model (gunicorn
with 1, limit, 2 x limit + 1 and 4 uvicorn workers; one plain uvicorn process) and each
workload shape, it measures requests/s at saturation (wrk), p50/p95/p99 at a fixed rate
below every model's saturation (Locust, the scenario's tagged task), errors, CFS
throttled time and memory. Writes worker-scaling.{json,md,png}.

    python -m loadtest.scaling [--limits 1,2] [--seconds 5] [--latency-seconds 8]
"""

import argparse
import datetime
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from loadtest.budget import CfsBudget, cpu_budget
from loadtest.generators import locust_fixed_rate, require_wrk, wrk
from loadtest.procs import REPO, VENV_BIN, gunicorn_service, uvicorn_service
from loadtest.report import load_average, write_json
from loadtest.stage import ADMIN_EMAIL, ADMIN_PASSWORD, SEEDED_ITEMS, Stage
from tests.support.net import free_port

REPORTS = REPO / "loadtest" / "reports"

# name: (wrk mode, path, Locust tag, Locust request name, connections for saturation)
WORKLOADS = {
    "ping": ("get", "/api/v1/ping", "ping", "/api/v1/ping", 64),
    "db-read": ("read", "", "db-read", "/api/v1/items/{id}", 64),
    "db-write": ("write", "", "db-write", "/api/v1/items [create]", 64),
    # 50 ms per request: 256 connections allow 5000 req/s before the client is the limit.
    "io-wait": ("get", "/api/v1/slow?ms=50", "io-wait", "/api/v1/slow", 256),
}
# The fixed rate for the latency figures: this share of the slowest model's saturation,
# capped where one Locust process still measures the service rather than itself.
FIXED_RATE_SHARE = 0.5
FIXED_RATE_CAP = 300


def models(limit: int) -> list[tuple[str, int | None]]:
    """(label, gunicorn workers or None for plain uvicorn) for one CPU limit."""
    rules: dict[int, list[str]] = {}
    for workers, rule in [(1, "1"), (limit, "limit"), (2 * limit + 1, "2xlimit+1"), (4, "4")]:
        rules.setdefault(workers, []).append(rule)
    gunicorn = [(f"gunicorn {w} ({'='.join(rules[w])})", w) for w in sorted(rules)]
    return [*gunicorn, ("uvicorn 1 (no gunicorn)", None)]


def probe_budget(limit: int) -> dict:
    """How this machine enforces `limit`, and what the service's own formula picks inside
    it (`items-api workers`): the formula must read the quota back."""
    budget = cpu_budget(limit, f"items-api-scaling-probe-{os.getpid()}")
    try:
        result = subprocess.run(
            [str(VENV_BIN / "items-api"), "workers"],
            capture_output=True,
            text=True,
            check=True,
            preexec_fn=budget.preexec,
            env={**os.environ, "ENVIRONMENT": "test"},
        )
        return {
            "kind": budget.kind,
            "budget": budget.describe(),
            "formula": json.loads(result.stdout),
        }
    finally:
        budget.close()


class Study:
    def __init__(self, args, stage: Stage) -> None:
        self.args = args
        self.stage = stage
        self.log_config = stage.tmp / "uvicorn-logging.json"
        from app.core.logging import logging_config

        self.log_config.write_text(json.dumps(logging_config("INFO")))

    def server(self, workers: int | None, budget, port: int):
        if workers is None:
            return uvicorn_service(port, self.stage.database_url, budget, self.log_config)
        return gunicorn_service(port, workers, self.stage.database_url, budget)

    def run_model(self, limit: int, label: str, workers: int | None, phase: str, rates=None):
        budget = cpu_budget(limit, f"items-api-budget-{os.getpid()}")
        cells = {}
        try:
            server = self.server(workers, budget, free_port())
            with server:
                token = self.stage.token(server.url)
                for name in self.args.workloads:
                    mode, path, tag, request, connections = WORKLOADS[name]
                    env = {"WRK_IDS": str(SEEDED_ITEMS), "WRK_TOKEN": token}
                    throttled_before = budget.throttled_s()
                    if phase == "saturation":
                        wrk(
                            server.url + path,
                            seconds=1,
                            connections=connections,
                            mode=mode,
                            env=env,
                        )
                        throttled_before = budget.throttled_s()
                        cell = wrk(
                            server.url + path,
                            seconds=self.args.seconds,
                            connections=connections,
                            mode=mode,
                            env=env,
                        )
                    else:
                        cell = locust_fixed_rate(
                            server.url,
                            tag=tag,
                            rate=rates[name],
                            seconds=self.args.latency_seconds,
                            request_name=request,
                            admin=(ADMIN_EMAIL, ADMIN_PASSWORD),
                        )
                    throttled = budget.throttled_s()
                    if throttled is not None and throttled_before is not None:
                        cell["throttled_s"] = round(throttled - throttled_before, 3)
                    else:
                        cell["throttled_s"] = None
                    cells[name] = cell
                    print(
                        f"  {phase:<10} {label:<28} {name:<9} {cell['rps']:8.1f} req/s "
                        f"p95 {cell['latency_ms']['p95']:7.1f} ms  errors {cell['errors']}  "
                        f"throttled {cell['throttled_s']} s",
                        flush=True,
                    )
                memory = server.memory()
                start_to_ready = server.start_to_ready_s
        finally:
            budget.close()
        return cells, memory, start_to_ready

    def run(self) -> dict:
        budget_kind = probe_budget(1)["kind"]
        results = {
            "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": "make scaling",
            "machine": {"cpus": os.cpu_count(), "load_average_before": load_average()},
            "budget": budget_kind,
            "settings": {
                "saturation_seconds": self.args.seconds,
                "saturation_rounds_best_of": self.args.rounds,
                "latency_seconds": self.args.latency_seconds,
                "fixed_rate_share_of_slowest_saturation": FIXED_RATE_SHARE,
                "fixed_rate_cap": FIXED_RATE_CAP,
                "workloads": {n: WORKLOADS[n][1] or WORKLOADS[n][3] for n in self.args.workloads},
                "connections": {n: WORKLOADS[n][4] for n in self.args.workloads},
            },
            "notes": notes(budget_kind, self.args.limits, self.args.rounds),
            "limits": [],
        }
        for limit in self.args.limits:
            probe = probe_budget(limit)
            print(f"CPU limit {limit}: {probe['budget']}; formula: {probe['formula']}", flush=True)
            rows = [
                {"model": label, "workers": workers, "saturation": {}, "start_to_ready_s": []}
                for label, workers in models(limit)
            ]
            # Neighbours on a shared machine can only take throughput away: each cell keeps
            # its best of the rounds, and every other round runs the models in reverse so
            # that a slow spell does not always hit the same model.
            for round_ in range(self.args.rounds):
                for row in rows if round_ % 2 == 0 else rows[::-1]:
                    cells, memory, ready = self.run_model(
                        limit, row["model"], row["workers"], "saturation"
                    )
                    row["start_to_ready_s"].append(round(ready, 2))
                    row["memory_after_saturation"] = memory
                    for name, cell in cells.items():
                        best = row["saturation"].get(name)
                        if best is None or cell["rps"] > best["rps"]:
                            row["saturation"][name] = cell
            rates = {
                name: fixed_rate(min(row["saturation"][name]["rps"] for row in rows))
                for name in self.args.workloads
            }
            for row in rows:
                cells, memory, _ = self.run_model(
                    limit, row["model"], row["workers"], "fixed-rate", rates
                )
                row["fixed_rate"] = cells
                row["memory"] = memory
            results["limits"].append(
                {"cpus": limit, "formula": probe["formula"], "fixed_rates": rates, "models": rows}
            )
        results["machine"]["load_average_after"] = load_average()
        return results


def fixed_rate(slowest_rps: float) -> float:
    """Half the slowest model's saturation, in round figures, between 5 and the cap."""
    rate = min(slowest_rps * FIXED_RATE_SHARE, FIXED_RATE_CAP)
    step = 10 ** max(0, int(math.log10(max(rate, 1))) - 1)
    return float(max(5, int(rate // step) * step))


def notes(budget_kind: str, limits: list[int], rounds: int) -> list[str]:
    cpus = os.cpu_count() or 1
    found = [
        f"CPU budget enforced by {budget_kind}"
        + (
            " (no throttling is possible, so throttled time is not reported)"
            if budget_kind != CfsBudget.kind
            else "; period 100 ms, as Kubernetes sets it"
        ),
        "Load generators (wrk, Locust) and PostgreSQL run outside the budget, unpinned, in a "
        "separate high-share cgroup; the service's group has the highest share too, so other "
        "work on the machine yields to both.",
        f"Saturation: wrk, 1 thread, keep-alive connections, closed loop; best of {rounds} "
        "rounds, the second in reverse model order. Fixed rate: Locust (the scenario's tagged "
        "task) with constant-throughput users.",
        "Worker recycling is off (MAX_REQUESTS=0) so every cell measures steady state.",
    ]
    for limit in limits:
        if limit >= cpus:
            found.append(
                f"Limit {limit} is not a fair measurement here: the machine has {cpus} CPUs, so "
                "the service shares them with the load generator and PostgreSQL; read those "
                "rows as an upper bound on contention, not as what a 2-CPU pod would do."
            )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="1,2", help="CPU limits, comma-separated")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    parser.add_argument("--seconds", type=float, default=4, help="saturation run per cell")
    parser.add_argument("--rounds", type=int, default=2, help="saturation runs per cell (best)")
    parser.add_argument("--latency-seconds", type=float, default=6, help="fixed-rate run")
    parser.add_argument("--out", type=Path, default=REPORTS, help="folder for the reports")
    args = parser.parse_args(argv)
    args.limits = [int(x) for x in args.limits.split(",")]
    args.workloads = args.workloads.split(",")
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {list(WORKLOADS)}")
    require_wrk()
    started = time.monotonic()
    with Stage() as stage:
        results = Study(args, stage).run()
    results["duration_s"] = round(time.monotonic() - started)
    from loadtest.report import scaling_markdown, scaling_plot

    args.out.mkdir(parents=True, exist_ok=True)
    write_json(args.out / "worker-scaling.json", results)
    (args.out / "worker-scaling.md").write_text(scaling_markdown(results))
    scaling_plot(results, args.out / "worker-scaling.png")
    print(f"wrote {args.out}/worker-scaling.{{json,md,png}} in {results['duration_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
