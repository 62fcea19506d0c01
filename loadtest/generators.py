"""The two load generators: wrk for saturation, Locust (the scenario) for a fixed rate."""

import csv
import json
import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from loadtest.procs import REPO, VENV_BIN

WRK_SCRIPT = Path(__file__).with_name("wrk.lua")
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
# Requests per second each Locust user sends at a fixed rate; users = rate / pace.
LOCUST_PACE = 5.0


def require_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    return wrk


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    mode: str = "get",
    env: dict | None = None,
    preexec=None,
) -> dict:
    """Closed-loop saturation: `connections` keep-alive connections sending back to back."""
    command = [
        require_wrk(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(WRK_SCRIPT),
        url,
    ]
    result = subprocess.run(
        command,
        env={**os.environ, "WRK_MODE": mode, "WRK_RUN": f"wrk{time.time_ns()}", **(env or {})},
        capture_output=True,
        text=True,
        check=True,
        preexec_fn=preexec,
    )
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    errors = sum(summary["errors"].values())
    seconds_run = summary["duration_us"] / 1e6
    return {
        "rps": (summary["requests"] - summary["errors"]["status"]) / seconds_run,
        "requests": summary["requests"],
        "errors": errors,
        "latency_ms": summary["latency_ms"],
        "connections": connections,
        "seconds": round(seconds_run, 2),
    }


def locust_fixed_rate(
    host: str,
    *,
    tag: str | None,
    rate: float,
    seconds: float,
    request_name: str,
    admin: tuple[str, str],
    preexec=None,
) -> dict:
    """The scenario's `tag` tasks (None: the whole mix) at `rate` requests/s; percentiles of
    `request_name` ("Aggregated" for all)."""
    users = max(1, math.ceil(rate / LOCUST_PACE))
    with tempfile.TemporaryDirectory(prefix="items-api-locust-") as tmp:
        prefix = Path(tmp) / "run"
        command = [str(VENV_BIN / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary"]
        command += ["--host", host, "-u", str(users), "-r", str(users), "-t", f"{round(seconds)}s"]
        command += ["--pace", f"{rate / users:g}", "--csv", str(prefix), "--loglevel", "WARNING"]
        command += ["--stop-timeout", "5", *(["--tags", tag] if tag else [])]
        result = subprocess.run(
            command,
            env={**os.environ, "ADMIN_EMAIL": admin[0], "ADMIN_PASSWORD": admin[1]},
            cwd=REPO,
            capture_output=True,
            text=True,
            preexec_fn=preexec,
        )
        # 3 is the SLO gate, not a broken run: the figures are what matters here.
        if result.returncode not in (0, 1, 3):
            raise RuntimeError(f"locust exited {result.returncode}: {result.stderr[-2000:]}")
        rows = {
            row["Name"]: row for row in csv.DictReader(prefix.with_name("run_stats.csv").open())
        }
    row = rows.get(request_name)
    if row is None:
        raise RuntimeError(f"locust made no {request_name!r} requests: {result.stderr[-2000:]}")
    return {
        "rate_target": rate,
        "rps": float(row["Requests/s"]),
        "requests": int(row["Request Count"]),
        "errors": int(row["Failure Count"]),
        "latency_ms": {p: float(row[f"{p[1:]}%"]) for p in ("p50", "p95", "p99")},
        "users": users,
    }
