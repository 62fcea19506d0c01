"""The helm command lines deployctl runs (pure builders) and running them."""

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import DeployError, ExitCode
from .release import Release

# Each revision is a Secret in the namespace; rollback needs only the recent ones.
HISTORY_MAX = 10


class HelmFailed(Exception):
    def __init__(self, argv: list[str], returncode: int, stderr: str) -> None:
        super().__init__(stderr.strip() or f"helm exited with {returncode}")
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr.strip()

    @property
    def release_missing(self) -> bool:
        return "release: not found" in self.stderr


@dataclass(frozen=True)
class Helm:
    binary: Path
    release: Release
    context: str
    # Only an explicit --kubeconfig is passed on; otherwise helm reads $KUBECONFIG itself.
    kubeconfig: str | None
    timeout_s: int

    def _scope(self) -> list[str]:
        scope = ["--namespace", self.release.namespace, "--kube-context", self.context]
        return scope + (["--kubeconfig", self.kubeconfig] if self.kubeconfig else [])

    def _wait(self) -> list[str]:
        return ["--wait", "--timeout", f"{self.timeout_s}s"]

    def upgrade_args(
        self, extra_values: tuple[Path, ...], image_tag: str | None, dry_run: bool
    ) -> list[str]:
        args = ["upgrade", "--install", self.release.name, str(self.release.chart)]
        args += self._scope()
        for path in (self.release.values_file, *extra_values):
            args += ["--values", str(path)]
        if image_tag:
            # --set would turn a tag like 1.10 into the number 1.1.
            args += ["--set-string", f"image.tag={image_tag}"]
        if dry_run:
            # "server" lets lookups and .Capabilities see the real cluster.
            return [*args, "--dry-run=server", "--output", "json"]
        return [*args, "--atomic", *self._wait(), "--history-max", str(HISTORY_MAX), "-o", "json"]

    def status_args(self) -> list[str]:
        return ["status", self.release.name, *self._scope(), "--output", "json"]

    def history_args(self) -> list[str]:
        return ["history", self.release.name, *self._scope(), "--output", "json"]

    def rollback_args(self, revision: int | None) -> list[str]:
        target = [str(revision)] if revision else []
        return ["rollback", self.release.name, *target, *self._scope(), *self._wait()]

    def uninstall_args(self) -> list[str]:
        return ["uninstall", self.release.name, *self._scope(), *self._wait()]

    def get_args(self, what: str) -> list[str]:
        return ["get", what, self.release.name, *self._scope()]

    def run(self, args: list[str]) -> str:
        argv = [str(self.binary), *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, check=False)  # noqa: S603
        except FileNotFoundError:
            raise DeployError(
                ExitCode.MISSING_TOOL,
                f"helm not found at {self.binary}",
                "build the pinned helm with `make tools`, or pass another binary with --helm",
            ) from None
        if done.returncode != 0:
            raise HelmFailed(argv, done.returncode, done.stderr)
        return done.stdout

    def run_json(self, args: list[str]) -> Any:
        return json.loads(self.run(args))
