"""Processes under test, on the host inside a budget or as the image under the engine's
limits: start, time start-to-ready, measure memory, stop."""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from harness.container import HARDENED, WAIT_CEILING_S, Engine, run_detached
from harness.net import free_port
from loadtest.budget import ContainerBudget

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def descendants(pid: int) -> list[int]:
    """pid and every process below it."""
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            with contextlib.suppress(OSError):  # it exited meanwhile
                frontier.extend(int(child) for child in task.read_text().split())
    return found


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):  # it exited meanwhile
            # Fields after the parenthesized command name; utime and stime are the 12th, 13th.
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """Resident (RSS) and proportional (PSS: shared pages split between sharers) memory.

    Summed over forked workers, RSS counts pages they share with the master more than once;
    PSS does not, so it is the figure to size a memory limit with.
    """
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value, *_ = line.split()
        fields[key.rstrip(":")] = int(value)
    return {"rss_mb": fields["Rss"] / 1024, "pss_mb": fields["Pss"] / 1024}


def memory_of(pids: list[int], workers: list[int]) -> dict[str, float]:
    """Totals over `pids`, and the mean per serving worker."""
    per_process = {pid: memory_mb(pid) for pid in pids}
    return {
        "rss_mb_total": sum(m["rss_mb"] for m in per_process.values()),
        "pss_mb_total": sum(m["pss_mb"] for m in per_process.values()),
        "rss_mb_per_worker": sum(per_process[p]["rss_mb"] for p in workers) / len(workers),
        "processes": len(pids),
    }


class Server:
    """A server process (and the workers it forks), started inside a CPU budget."""

    def __init__(self, name: str, command: list[str], *, port: int, env: dict, budget=None):
        self.name = name
        self.command = command
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}", **env}
        self.budget = budget
        self.log_path = Path(env.get("SERVER_LOG", os.devnull))
        self.process: subprocess.Popen | None = None
        self.start_to_ready_s: float | None = None

    def start(self, ready_path: str = "/readyz", timeout: float = 60.0) -> "Server":
        log = self.log_path.open("ab")
        started = time.monotonic()
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=self.budget.preexec if self.budget else None,
        )
        log.close()
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}")
            try:
                if httpx.get(self.url + ready_path, timeout=1).status_code == 200:
                    self.start_to_ready_s = time.monotonic() - started
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        self.stop()
        raise TimeoutError(f"{self.name}: {ready_path} did not answer 200 within {timeout}s")

    def workers(self) -> list[int]:
        """The processes that serve requests: the forked workers, or the process itself."""
        tree = descendants(self.process.pid)
        return tree[1:] or tree

    def memory(self) -> dict[str, float]:
        return memory_of(descendants(self.process.pid), self.workers())

    def cpu_seconds(self) -> float:
        """CPU time of the server and its workers so far."""
        return cpu_seconds(descendants(self.process.pid))

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


class NotReady(RuntimeError):
    """The container exited, or never answered, before /readyz; the message has its log."""


class ContainerServer:
    """The service's image run as a pod runs it (hardened, the chart's securityContext) on
    the host's loopback, under `--cpus` and `--memory` with no swap, as on a Kubernetes node."""

    def __init__(
        self,
        engine: Engine,
        image: str,
        name: str,
        *,
        port: int,
        cpus: float,
        memory_mb: int,
        env: dict[str, str],
        options: tuple[str, ...] = (),
        args: tuple[str, ...] = (),
    ) -> None:
        self.engine, self.image, self.name, self.port = engine, image, name, port
        self.url = f"http://127.0.0.1:{port}"
        self.options = (
            *HARDENED,
            f"--cpus={cpus:g}",
            f"--memory={memory_mb}m",
            f"--memory-swap={memory_mb}m",
            *options,
        )
        self.env, self.args = env, args
        self.container = None
        self.budget: ContainerBudget | None = None
        self.start_to_ready_s: float | None = None

    def start(self, timeout: float = WAIT_CEILING_S) -> "ContainerServer":
        self.container = run_detached(
            self.engine, self.image, self.name, self.port, *self.options,
            env=self.env, args=self.args,
        )  # fmt: skip
        try:
            self.start_to_ready_s = self.container.wait_until_ready(timeout)
        except AssertionError as error:
            self.stop()
            raise NotReady(f"{self.name}: {error}") from None
        self.budget = ContainerBudget(
            self.container.host_pid(), f"{self.engine.command} --cpus/--memory"
        )
        return self

    def worker_plan(self) -> dict | None:
        """The worker count and its source as gunicorn logged them at startup (None: the
        container runs no gunicorn)."""
        keys = ("workers", "source", "cpus", "memory_limit_mb")
        for record in self.container.log_records():
            if "workers" in record:
                return {key: record[key] for key in keys}
        return None

    def memory(self) -> dict[str, float]:
        """Over every process in the container's cgroup; workers: PID 1's children, if any."""
        tree = descendants(self.container.host_pid())
        return memory_of(self.budget.pids(), tree[1:] or tree)

    def stop(self) -> None:
        if self.container is not None:
            self.container.remove()

    def __enter__(self) -> "ContainerServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def gunicorn_service(port: int, workers: int, database_url: str, budget, **env) -> Server:
    """The service as it ships: service/bin/start (gunicorn + uvicorn workers)."""
    return Server(
        f"gunicorn x{workers}",
        [str(REPO / "service" / "bin" / "start")],
        port=port,
        budget=budget,
        env={
            "PORT": str(port),
            "METRICS_PORT": str(free_port()),
            "WEB_CONCURRENCY": str(workers),
            **service_env(database_url),
            **env,
        },
    )


def uvicorn_service(port: int, database_url: str, budget, log_config: Path, **env) -> Server:
    """One plain uvicorn process, as FastAPI's docs suggest for containers on Kubernetes."""
    return Server(
        "uvicorn x1",
        [str(VENV_BIN / "uvicorn"), *uvicorn_args(port, log_config)],
        port=port,
        budget=budget,
        env={**service_env(database_url), **env},
    )


def uvicorn_args(port: int, log_config: Path) -> list[str]:
    """`uvicorn` with the app's JSON logging and gunicorn's keep-alive, no access log."""
    return [
        "app.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-config",
        str(log_config),
        "--timeout-keep-alive",
        "75",
    ]


def service_env(database_url: str) -> dict[str, str]:
    return {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": "load-test-secret-0123456789abcdef0123456789",
        "MAX_REQUESTS": "0",
    }
