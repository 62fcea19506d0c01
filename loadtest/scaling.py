"""The worker-scaling study: which gunicorn worker count serves best under a CPU limit.

For each CPU limit and each process model (gunicorn with 1, limit, 2 x limit + 1 and 4
uvicorn workers; one plain uvicorn process) and each workload shape, it measures requests/s
at saturation (wrk), p50/p95/p99 at a fixed rate below every model's saturation (Locust, the
scenario's tagged task), errors, CFS throttled time and memory. Writes
worker-scaling.{json,md,png}.

Each cell runs the service's image under the engine's `--cpus`/`--memory` (what a kubelet
sets for a pod's limits); `--target host`, or no container engine, runs host processes in a
cgroup CFS quota made here (or CPU affinity without writable cgroups) instead.

    python -m loadtest.scaling [--limits 1,2] [--target auto|container|host] [--models ...]
"""

import argparse
import contextlib
import datetime
import itertools
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from harness.container import IMAGE, Engine, NoEngine, find_engine
from harness.net import free_port
from loadtest.budget import CfsBudget, EngineParent, cpu_budget
from loadtest.generators import locust_fixed_rate, require_wrk, wrk
from loadtest.procs import (
    REPO,
    VENV_BIN,
    ContainerServer,
    NotReady,
    gunicorn_service,
    service_env,
    uvicorn_args,
    uvicorn_service,
)
from loadtest.report import load_average, write_json
from loadtest.stage import ADMIN_EMAIL, ADMIN_PASSWORD, SEEDED_ITEMS, Stage

REPORTS = REPO / "loadtest" / "reports"

# name: (wrk mode, path, Locust tag, Locust request name, connections for saturation)
WORKLOADS = {
    "ping": ("get", "/api/v1/ping", "ping", "/api/v1/ping", 64),
    "db-read": ("read", "", "db-read", "/api/v1/items/{id}", 64),
    "db-write": ("write", "", "db-write", "/api/v1/items [create]", 64),
    # 50 ms per request: 256 connections allow 5000 req/s before the client is the limit.
    "io-wait": ("get", "/api/v1/slow?ms=50", "io-wait", "/api/v1/slow", 256),
}
RULES = ("1", "limit", "2xlimit+1", "4", "formula", "uvicorn")
# A gunicorn model without WEB_CONCURRENCY: the image's formula picks the count.
FORMULA = 0
# The fixed rate for the latency figures: this share of the slowest model's saturation,
# capped where one Locust process still measures the service rather than itself.
FIXED_RATE_SHARE = 0.5
FIXED_RATE_CAP = 300
# The chart's default pod (values.yaml resources.limits): 1 CPU, 512Mi.
MEMORY_PER_CPU_MB = 512


def models(
    limit: int, rules: tuple[str, ...] = RULES, formula: int | None = None
) -> list[tuple[str, int | None]]:
    """(label, gunicorn workers or None for plain uvicorn) for one CPU limit; `formula`, the
    count the service picks itself, joins the label of the model it equals (or adds one)."""
    named: dict[int, list[str]] = {}
    counts = {"1": 1, "limit": limit, "2xlimit+1": 2 * limit + 1, "4": 4}
    for rule, workers in counts.items():
        if rule in rules:
            named.setdefault(workers, []).append(rule)
    if formula is not None and "formula" in rules:
        named.setdefault(formula, []).append("formula")
    gunicorn = [(f"gunicorn {w} ({'='.join(named[w])})", w) for w in sorted(named)]
    return [*gunicorn, *([("uvicorn 1 (no gunicorn)", None)] if "uvicorn" in rules else [])]


def uvicorn_log_config(stage: Stage) -> Path:
    """The app's logging (what gunicorn.conf.py hands gunicorn) as a file for plain uvicorn."""
    from app.core.logging import logging_config

    path = stage.tmp / "uvicorn-logging.json"
    path.write_text(json.dumps(logging_config("INFO")))
    return path


class HostTarget:
    """Host processes inside a cgroup CFS quota made here, or CPU affinity without one."""

    memory_per_cpu_mb = None

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.log_config = uvicorn_log_config(stage)

    def mechanism(self) -> str:
        budget = cpu_budget(1, f"items-api-scaling-kind-{os.getpid()}")
        budget.close()
        return budget.kind

    def probe(self, limit: int) -> dict:
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
            return {"budget": budget.describe(), "formula": json.loads(result.stdout)}
        finally:
            budget.close()

    @contextlib.contextmanager
    def serve(self, limit: int, workers: int | None, _memory_mb: int | None):
        budget = cpu_budget(limit, f"items-api-budget-{os.getpid()}")
        try:
            port, url = free_port(), self.stage.database_url
            if workers is None:
                server = uvicorn_service(port, url, budget, self.log_config)
            else:
                server = gunicorn_service(port, workers, url, budget)
            with server:
                yield server
        finally:
            budget.close()


class DoesNotFit(RuntimeError):
    """The image refused a worker count under the memory limit; `needed_mb` would fit it."""

    def __init__(self, message: str, needed_mb: int) -> None:
        super().__init__(message)
        self.needed_mb = needed_mb


class ContainerTarget:
    """The service's image, one container per cell, under the engine's --cpus/--memory."""

    LOG_CONFIG = "/run/items-api-logging.json"

    def __init__(self, stage: Stage, engine: Engine, image: str, memory_per_cpu_mb: int) -> None:
        self.stage, self.engine, self.image = stage, engine, image
        self.memory_per_cpu_mb = memory_per_cpu_mb
        self.names = itertools.count()
        self.log_config = uvicorn_log_config(stage)
        found = engine(
            "image", "inspect", "--format", "{{json .Config.Labels}}", image, check=False
        )
        if found.returncode != 0:
            raise SystemExit(f"scaling: image {image} not found: build it with `make image`")
        labels = json.loads(found.stdout) or {}
        self.built = (
            f"{labels.get('org.opencontainers.image.version', '?')}-"
            f"{labels.get('org.opencontainers.image.revision', '?')}"
        )
        # The containers' parent group: the highest share, so that on a shared machine other
        # work yields to the measurement and each container's quota is what limits it.
        self.parent = EngineParent(f"items-api-scaling-{os.getpid()}")

    def close(self) -> None:
        self.parent.close()

    def mechanism(self) -> str:
        return f"{self.engine.command} --cpus/--memory (real image {self.image}, {self.built})"

    def server(
        self, limit: int, workers: int | None, memory_mb: int | None = None
    ) -> ContainerServer:
        port = free_port()
        env = service_env(self.stage.database_url)
        options: tuple[str, ...] = ()
        args: tuple[str, ...] = ()
        if self.parent.path is not None:
            options += (f"--cgroup-parent=/{self.parent.path.name}",)
        if workers is None:
            options += (
                f"--volume={self.log_config}:{self.LOG_CONFIG}:ro",
                "--entrypoint=uvicorn",
            )
            args = tuple(uvicorn_args(port, Path(self.LOG_CONFIG)))
        elif workers != FORMULA:
            env["WEB_CONCURRENCY"] = str(workers)
        return ContainerServer(
            self.engine, self.image, f"items-api-scaling-{os.getpid()}-{next(self.names)}",
            port=port, cpus=limit, memory_mb=memory_mb or limit * self.memory_per_cpu_mb, env=env,
            options=options, args=args,
        )  # fmt: skip

    def probe(self, limit: int) -> dict:
        """The limits as the kernel holds them for the container, and the worker count the
        image's own formula logged inside them."""
        with self.server(limit, FORMULA) as server:
            return {"budget": server.budget.describe(), "formula": server.worker_plan()}

    @contextlib.contextmanager
    def serve(self, limit: int, workers: int | None, memory_mb: int | None):
        server = self.server(limit, workers, memory_mb)
        try:
            server.start()
        except NotReady as error:
            if "does not fit the memory limit" not in str(error):
                raise
            raise DoesNotFit(refusal(str(error)), fitting_memory_mb(workers)) from None
        try:
            plan = server.worker_plan()
            if workers is not None and (plan or {}).get("workers") != workers:
                raise RuntimeError(f"WEB_CONCURRENCY={workers} not honoured: {plan}")
            yield server
        finally:
            server.stop()


def refusal(log: str) -> str:
    """The image's one-line reason for refusing to start."""
    return next(line for line in log.splitlines() if "does not fit the memory limit" in line)


def fitting_memory_mb(workers: int) -> int:
    """The smallest limit, in 64 MiB steps, the image's formula accepts `workers` under."""
    from app.core.config import Settings
    from app.core.workers import MASTER_MEMORY_MB

    needed = MASTER_MEMORY_MB + workers * Settings.model_fields["WORKER_MEMORY_MB"].default
    return math.ceil(needed / 64) * 64


def counters(budget) -> dict[str, float | None]:
    """The budget's running totals; a cell records how much each grew during its run."""
    return {"throttled_s": budget.throttled_s(), "cpu_s": budget.cpu_s()}


class Study:
    def __init__(self, args, stage: Stage, target: HostTarget | ContainerTarget) -> None:
        self.args = args
        self.stage = stage
        self.target = target

    def run_model(self, limit: int, row: dict, phase: str, rates=None):
        cells = {}
        with self.target.serve(limit, row["workers"], row.get("memory_limit_mb")) as server:
            budget = server.budget
            token = self.stage.token(server.url)
            for name in self.args.workloads:
                mode, path, tag, request, connections = WORKLOADS[name]
                env = {"WRK_IDS": str(SEEDED_ITEMS), "WRK_TOKEN": token}
                before = counters(budget)
                if phase == "saturation":
                    wrk(server.url + path, seconds=1, connections=connections, mode=mode, env=env)
                    before = counters(budget)
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
                for key, value in counters(budget).items():
                    cell[key] = None if value is None else round(value - before[key], 3)
                cells[name] = cell
                print(
                    f"  {phase:<10} {row['model']:<34} {name:<9} {cell['rps']:8.1f} req/s "
                    f"p95 {cell['latency_ms']['p95']:7.1f} ms  errors {cell['errors']}  "
                    f"throttled {cell['throttled_s']} s  cpu {cell['cpu_s']} s",
                    flush=True,
                )
            memory = server.memory()
            start_to_ready = server.start_to_ready_s
        return cells, memory, start_to_ready

    def run_model_fitting(self, limit: int, row: dict, phase: str, rates=None):
        """run_model; a worker count the image refuses under the pod's memory limit is
        recorded with the image's reason and measured under the smallest limit it accepts."""
        try:
            return self.run_model(limit, row, phase, rates)
        except DoesNotFit as refused:
            print(f"  {row['model']}: {refused}; again at {refused.needed_mb} MiB", flush=True)
            row["refused_at_pod_memory"] = str(refused)
            row["memory_limit_mb"] = refused.needed_mb
            row["model"] += f" @{refused.needed_mb} MiB"
            return self.run_model(limit, row, phase, rates)

    def run(self) -> dict:
        mechanism = self.target.mechanism()
        results = {
            "generated_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "command": "make scaling",
            "machine": {"cpus": os.cpu_count(), "load_average_before": load_average()},
            "budget": mechanism,
            "settings": {
                "target": "container" if isinstance(self.target, ContainerTarget) else "host",
                "memory_per_cpu_mb": self.target.memory_per_cpu_mb,
                "saturation_seconds": self.args.seconds,
                "saturation_rounds_best_of": self.args.rounds,
                "latency_seconds": self.args.latency_seconds,
                "fixed_rate_share_of_slowest_saturation": FIXED_RATE_SHARE,
                "fixed_rate_cap": FIXED_RATE_CAP,
                "workloads": {n: WORKLOADS[n][1] or WORKLOADS[n][3] for n in self.args.workloads},
                "connections": {n: WORKLOADS[n][4] for n in self.args.workloads},
            },
            "notes": notes(mechanism, self.target, self.args.limits, self.args.rounds),
            "limits": [],
        }
        for limit in self.args.limits:
            probe = self.target.probe(limit)
            print(f"CPU limit {limit}: {probe['budget']}; formula: {probe['formula']}", flush=True)
            memory_mb = self.target.memory_per_cpu_mb and limit * self.target.memory_per_cpu_mb
            rows = [
                {
                    "model": label,
                    "workers": workers,
                    "memory_limit_mb": memory_mb,
                    "saturation": {},
                    "start_to_ready_s": [],
                }
                for label, workers in models(limit, self.args.models, probe["formula"]["workers"])
            ]
            # Neighbours on a shared machine can only take throughput away: each cell keeps
            # its best of the rounds, and every other round runs the models in reverse so
            # that a slow spell does not always hit the same model.
            for round_ in range(self.args.rounds):
                for row in rows if round_ % 2 == 0 else rows[::-1]:
                    cells, memory, ready = self.run_model_fitting(limit, row, "saturation")
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
                cells, memory, _ = self.run_model_fitting(limit, row, "fixed-rate", rates)
                row["fixed_rate"] = cells
                row["memory"] = memory
            results["limits"].append(
                {
                    "cpus": limit,
                    "budget": probe["budget"],
                    "formula": probe["formula"],
                    "fixed_rates": rates,
                    "models": rows,
                }
            )
        results["machine"]["load_average_after"] = load_average()
        return results


def fixed_rate(slowest_rps: float) -> float:
    """Half the slowest model's saturation, in round figures, between 5 and the cap."""
    rate = min(slowest_rps * FIXED_RATE_SHARE, FIXED_RATE_CAP)
    step = 10 ** max(0, int(math.log10(max(rate, 1))) - 1)
    return float(max(5, int(rate // step) * step))


def notes(mechanism: str, target, limits: list[int], rounds: int) -> list[str]:
    cpus = os.cpu_count() or 1
    if isinstance(target, ContainerTarget):
        found = [
            f"CPU and memory limits enforced by {mechanism}: one container per cell, started "
            f"with --cpus <limit> --memory <limit x {target.memory_per_cpu_mb} MiB> and "
            "--memory-swap the same (no swap, as on a Kubernetes node), hardened as the chart "
            "runs it (read-only root, /tmp a tmpfs, no capabilities, no-new-privileges), on "
            "the host network; CFS period 100 ms, as Kubernetes sets it. "
            f"{target.memory_per_cpu_mb} MiB per CPU: the chart's default pod is 1 CPU, 512Mi.",
            "gunicorn models force their worker count with WEB_CONCURRENCY, checked against the "
            "worker plan the image logs at startup; 'formula' marks the count the image picks "
            "itself under the same limits (its logged plan without WEB_CONCURRENCY). Plain "
            "uvicorn is the image with its entrypoint replaced by `uvicorn app.main:app` (same "
            "port, the app's JSON logging, no access log).",
            "RSS and PSS: summed over every process in the container's cgroup (smaps_rollup), "
            "read after the cell's last run. The JSON's cpu_s: CPU seconds the container's "
            "cgroup used during each run (cpuacct), next to its throttled time.",
            "Load generators (wrk, Locust) and PostgreSQL run on the host outside the "
            "containers, unpinned, in a separate high-share cgroup; the containers' parent "
            "cgroup has the highest share too, so other work on the machine yields to both.",
        ]
    else:
        found = [
            f"CPU budget enforced by {mechanism}"
            + (
                " (no throttling is possible, so throttled time is not reported)"
                if mechanism != CfsBudget.kind
                else "; period 100 ms, as Kubernetes sets it"
            )
            + "; host processes (service/bin/start), no memory limit.",
            "Load generators (wrk, Locust) and PostgreSQL run outside the budget, unpinned, in a "
            "separate high-share cgroup; the service's group has the highest share too, so "
            "other work on the machine yields to both.",
        ]
    found += [
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


def refusal_notes(results: dict) -> list[str]:
    return [
        f"{row['model']} at CPU limit {limit['cpus']}: under the pod's memory limit the image "
        f"refused to start ({row['refused_at_pod_memory']}), so it ran under "
        f"{row['memory_limit_mb']} MiB, the smallest limit it accepts."
        for limit in results["limits"]
        for row in limit["models"]
        if "refused_at_pod_memory" in row
    ]


@contextlib.contextmanager
def target_for(args, stage: Stage):
    """The real image when an engine can run it (or --target container insists), else host
    processes in a cgroup, saying why."""
    if args.target != "host":
        try:
            engine = find_engine()
        except NoEngine as missing:
            if args.target == "container":
                raise SystemExit(f"scaling: --target container: {missing}") from None
            print(f"scaling: {missing}; measuring host processes instead", flush=True)
        else:
            target = ContainerTarget(stage, engine, args.image, args.memory_per_cpu)
            try:
                yield target
            finally:
                target.close()
            return
    yield HostTarget(stage)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limits", default="1,2", help="CPU limits, comma-separated")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    parser.add_argument(
        "--models", default=",".join(RULES), help=f"comma-separated, from {','.join(RULES)}"
    )
    parser.add_argument(
        "--target",
        choices=("auto", "container", "host"),
        default="auto",
        help="container: the image under --cpus/--memory; host: host processes in a cgroup "
        "CFS quota; auto: container when an engine is found (default)",
    )
    parser.add_argument("--image", default=IMAGE, help="the image to run (default %(default)s)")
    parser.add_argument(
        "--memory-per-cpu",
        type=int,
        default=MEMORY_PER_CPU_MB,
        help="container memory limit per CPU of the limit, MiB (default %(default)s)",
    )
    parser.add_argument("--seconds", type=float, default=4, help="saturation run per cell")
    parser.add_argument("--rounds", type=int, default=2, help="saturation runs per cell (best)")
    parser.add_argument("--latency-seconds", type=float, default=6, help="fixed-rate run")
    parser.add_argument("--out", type=Path, default=REPORTS, help="folder for the reports")
    args = parser.parse_args(argv)
    try:
        args.limits = [int(x) for x in args.limits.split(",")]
    except ValueError:
        parser.error(f"--limits {args.limits}: whole CPUs, comma-separated (e.g. 1,2)")
    args.workloads = args.workloads.split(",")
    args.models = tuple(args.models.split(","))
    for option, chosen, known in (
        ("--workloads", args.workloads, WORKLOADS),
        ("--models", args.models, RULES),
    ):
        unknown = set(chosen) - set(known)
        if unknown:
            parser.error(f"{option}: unknown {sorted(unknown)}; choose from {list(known)}")
    if args.memory_per_cpu < 64:
        parser.error(f"--memory-per-cpu {args.memory_per_cpu}: at least 64 (MiB)")
    require_wrk()
    started = time.monotonic()
    with Stage() as stage, target_for(args, stage) as target:
        results = Study(args, stage, target).run()
    results["notes"] += refusal_notes(results)
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
