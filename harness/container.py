"""The built image, run as a real container by whichever engine this machine has: for the
image tests and for the worker-scaling study, which measures the artifact operators ship."""

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.net import free_port, wait_for_http
from harness.wait import eventually

REPO = Path(__file__).resolve().parents[1]
IMAGE = os.environ.get("ITEMS_API_IMAGE", "localhost/items-api:dev")
# What a Kubernetes pod with the chart's securityContext gets: no root filesystem writes,
# no capabilities, no privilege escalation, a memory-backed /tmp.
HARDENED = (
    "--read-only", "--tmpfs", "/tmp", "--cap-drop", "ALL",
    "--security-opt", "no-new-privileges",
)  # fmt: skip
os.environ.setdefault("CONTAINERS_CONF", str(REPO / "container" / "containers.conf"))

# A ceiling, not an expectation: on a 2-core machine shared with other builds, start to
# ready has taken 15 s.
WAIT_CEILING_S = 90.0


class NoEngine(RuntimeError):
    """No engine here can run a container; the message says what is missing."""


@dataclass(frozen=True)
class Engine:
    command: str

    def __call__(self, *args: str, check: bool = True, timeout: float = 120):
        result = subprocess.run(
            [self.command, *args], capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"{self.command} {' '.join(args)} exited {result.returncode}:\n{result.stderr}"
            )
        return result


def find_engine() -> Engine:
    """docker when its daemon answers, else podman (container/engine decides)."""
    found = subprocess.run([REPO / "container" / "engine"], capture_output=True, text=True)
    if found.returncode != 0:
        raise NoEngine(found.stderr.strip())
    return Engine(found.stdout.strip())


@dataclass
class Container:
    engine: Engine
    name: str
    url: str
    metrics_url: str
    started_at: float = field(default_factory=time.monotonic)

    def state(self, key: str) -> str:
        return self.engine("inspect", "--format", f"{{{{.State.{key}}}}}", self.name).stdout.strip()

    def running(self) -> bool:
        return self.state("Running") == "true"

    def host_pid(self) -> int:
        """The container's PID 1 as the host sees it."""
        return int(self.state("Pid"))

    def logs(self) -> str:
        result = self.engine("logs", self.name, check=False)
        return result.stdout + result.stderr

    def log_records(self) -> list[dict]:
        records = []
        for line in self.logs().splitlines():
            if line.startswith("{"):
                records.append(json.loads(line))
        return records

    def wait_until_ready(self, timeout: float = WAIT_CEILING_S) -> float:
        """Seconds from `run` to /readyz 200; fails early if the container exits."""
        if not wait_for_http(f"{self.url}/readyz", timeout=timeout, alive=self.running):
            raise AssertionError(f"container exited before ready:\n{self.logs()}")
        return time.monotonic() - self.started_at

    def wait_until_exited(self, timeout: float = WAIT_CEILING_S) -> int:
        eventually(lambda: not self.running(), "the container exiting", timeout=timeout, every=0.1)
        return int(self.state("ExitCode"))

    def worker_pids(self) -> list[int]:
        # The entrypoint execs gunicorn, so PID 1 is the master and its children the workers.
        result = self.engine("exec", self.name, "cat", "/proc/1/task/1/children")
        return [int(pid) for pid in result.stdout.split()]

    def remove(self) -> None:
        self.engine("rm", "--force", self.name, check=False)


def run_detached(
    engine: Engine,
    image: str,
    name: str,
    port: int,
    *options: str,
    env: dict[str, str],
    args: tuple[str, ...] = (),
) -> Container:
    """Start `image` on the host network (PostgreSQL listens on loopback), serving on `port`
    (and /metrics on a free port of its own)."""
    metrics_port = free_port()
    environment = {"HOST": "127.0.0.1", "PORT": str(port), "METRICS_PORT": str(metrics_port), **env}
    flags = [f"--env={key}={value}" for key, value in environment.items()]
    container = Container(
        engine, name, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    )
    engine("run", "--detach", "--name", name, "--network", "host", *options, *flags, image, *args)
    return container
