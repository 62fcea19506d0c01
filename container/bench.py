"""The image's figures for `make bench`: size, layers and start-to-ready time.

Start to ready is measured from `run` to the first /readyz 200 against a throwaway
PostgreSQL, hardened as in production (read-only root, tmpfs /tmp, no capabilities).

    python -m container.bench ENGINE IMAGE [--runs 5] [--output .local/image/bench.json]
"""

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from tests.support.net import free_port
from tests.support.postgres import PostgresServer

REPO = Path(__file__).resolve().parents[1]
# The container's own /tmp, a tmpfs: nothing on the host.
HARDENED = ["--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL"]  # noqa: S108
HARDENED += ["--security-opt", "no-new-privileges"]


def engine_run(engine: str, *args: str, database_url: str = "", check: bool = True) -> str:
    """The engine's output; the database URL travels in the environment, not in argv."""
    env = {"CONTAINERS_CONF": str(REPO / "container" / "containers.conf"), **os.environ}
    env["DATABASE_URL"] = database_url
    argv = [engine, *args]
    result = subprocess.run(argv, env=env, capture_output=True, text=True)  # noqa: S603
    if check and result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def start_to_ready(engine: str, image: str, database_url: str, cpus: str | None) -> float:
    port = free_port()
    name = f"items-api-bench-{port}"
    limits = [f"--cpus={cpus}"] if cpus else []
    started = time.monotonic()
    engine_run(
        engine, "run", "--detach", "--name", name, "--network", "host", *HARDENED, *limits,
        "--env", "HOST=127.0.0.1", "--env", f"PORT={port}", "--env", "DATABASE_URL", image,
        database_url=database_url,
    )  # fmt: skip
    try:
        deadline = started + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise TimeoutError(engine_run(engine, "logs", name))
    finally:
        engine_run(engine, "rm", "--force", name, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engine")
    parser.add_argument("image")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", type=Path, default=Path(".local/image/bench.json"))
    options = parser.parse_args()

    inspected = json.loads(engine_run(options.engine, "image", "inspect", options.image))[0]
    figures = {
        "image": options.image,
        "size_mb": round(inspected["Size"] / 1e6, 1),
        "layers": len(inspected["RootFS"]["Layers"]),
        "start_to_ready_s": {},
    }
    with tempfile.TemporaryDirectory(prefix="items-api-bench-pg-") as base:
        Path(base).chmod(0o755)
        postgres = PostgresServer(Path(base))
        postgres.init()
        postgres.start()
        try:
            postgres.psql("CREATE DATABASE bench")
            url = postgres.url("bench")
            engine_run(
                options.engine, "run", "--rm", "--network", "host", *HARDENED,
                "--env", "DATABASE_URL", "--entrypoint", "items-api", options.image, "migrate",
                database_url=url,
            )  # fmt: skip
            for label, cpus in (("default", None), ("--cpus=1", "1")):
                times = [
                    start_to_ready(options.engine, options.image, url, cpus)
                    for _ in range(options.runs)
                ]
                figures["start_to_ready_s"][label] = {
                    "median": round(statistics.median(times), 2),
                    "min": round(min(times), 2),
                    "max": round(max(times), 2),
                }
        finally:
            postgres.stop("immediate")
    figures["load_average_1m"] = round(float(Path("/proc/loadavg").read_text().split()[0]), 1)

    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
