"""The real service under gunicorn, as `service/bin/start` runs it."""

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from harness.net import free_port, wait_for_http

REPO = Path(__file__).resolve().parents[1]
START = REPO / "service" / "bin" / "start"
TEST_JWT_SECRET = "test-secret-that-is-long-enough-0123456789"


class ServiceProcess:
    def __init__(self, database_url: str, *, workers: int = 2, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.metrics_port = free_port()
        self.metrics_url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        self._metrics_dir = tempfile.TemporaryDirectory(prefix="items-api-metrics-")
        # The log outlives this call: close() removes it.
        self._log = tempfile.NamedTemporaryFile(prefix="items-api-", suffix=".log", delete=False)  # noqa: SIM115
        self.log_path = Path(self._log.name)
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "ENVIRONMENT": "test",
            "DATABASE_URL": database_url,
            "JWT_SECRET": TEST_JWT_SECRET,
            "PORT": str(self.port),
            "METRICS_PORT": str(self.metrics_port),
            "WEB_CONCURRENCY": str(workers),
            "PROMETHEUS_MULTIPROC_DIR": self._metrics_dir.name,
            "GRACEFUL_TIMEOUT_S": "10",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self, *, wait: bool = True, timeout: float = 90.0) -> "ServiceProcess":
        self.process = subprocess.Popen(
            [str(START)], env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        if wait:
            try:
                wait_for_http(f"{self.url}/readyz", timeout=timeout, process=self.process)
            except BaseException:
                # The caller never gets an object to close: stop it here or it outlives the run.
                self.stop()
                raise
        return self

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()

    def close(self) -> None:
        self.stop()
        self._metrics_dir.cleanup()
        self.log_path.unlink(missing_ok=True)
