"""A throwaway local registry (cluster/registry/registry: distribution with TLS from its own
CA and basic auth) and the release scripts run against it as `make` runs them. Without the
registry, cosign, syft or crane built (make release-tools) these tests skip saying so; with
CI=true they fail instead."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.net import free_port

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools" / "bin"
RELEASE_TOOLS = ("registry", "cosign", "crane", "helm")


def require_tools(*names: str) -> None:
    missing = [name for name in names if not os.access(TOOLS / name, os.X_OK)]
    missing += [name for name in ("htpasswd", "openssl") if not shutil.which(name)]
    if missing:
        reason = f"release tools missing: {', '.join(missing)} (make release-tools registry-up)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def release_tools() -> Path:
    require_tools(*RELEASE_TOOLS)
    return TOOLS


@dataclass
class Registry:
    env: dict[str, str]
    state: Path

    @property
    def address(self) -> str:
        return self.env["REGISTRY"]

    def run(self, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """A command in the environment `make` gives the release scripts."""
        return subprocess.run(
            argv,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            env={**self.env, **(env or {})},
            check=False,
        )

    def crane(self, *args: str) -> str:
        done = self.run(str(ROOT / "container/release/with-registry"), str(TOOLS / "crane"), *args)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture(scope="session")
def registry(release_tools: Path, tmp_path_factory) -> Iterator[Registry]:
    state = tmp_path_factory.mktemp("registry")
    base = {
        **os.environ,
        "PATH": f"{release_tools}:{os.environ['PATH']}",
        "REGISTRY_STATE": str(state),
        "REGISTRY_PORT": str(free_port()),
    }
    script = str(ROOT / "cluster/registry/registry")
    up = subprocess.run([script, "up"], env=base, capture_output=True, text=True, check=False)
    assert up.returncode == 0, up.stderr
    try:
        printed = subprocess.run(
            [script, "env"], env=base, capture_output=True, text=True, check=True
        ).stdout
        # The same lines `eval` reads in container/release/env.sh, read by the shell.
        exported = subprocess.run(
            ["bash", "-c", f"{printed}\nenv -0"], env=base, capture_output=True, check=True
        ).stdout.decode()
        env = dict(item.split("=", 1) for item in exported.split("\0") if "=" in item)
        # Keeps the test's own logins apart from the checkout's .local/release.
        env["RELEASE_STATE"] = str(state / "release")
        yield Registry(env, state)
    finally:
        subprocess.run([script, "down"], env=base, capture_output=True, check=False)
