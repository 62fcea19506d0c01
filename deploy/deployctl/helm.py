"""The helm command lines deployctl runs (pure builders) and running them."""

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .release import HELM_PLUGINS, Release
from .signature import ImageRef

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
    # None until preflight has chosen one: rendering the chart needs no cluster.
    context: str | None
    # Only an explicit --kubeconfig is passed on; otherwise helm reads $KUBECONFIG itself.
    kubeconfig: str | None
    timeout_s: int
    # The image by digest (--image): it replaces the values' registry, repository and digest.
    image: ImageRef | None = None

    def _scope(self) -> list[str]:
        scope = ["--namespace", self.release.namespace]
        scope += ["--kube-context", self.context] if self.context else []
        return scope + (["--kubeconfig", self.kubeconfig] if self.kubeconfig else [])

    def _values(self, extra_values: tuple[Path, ...], image_tag: str | None) -> list[str]:
        args = []
        for path in (self.release.values_file, *extra_values):
            args += ["--values", str(path)]
        # --set would turn a tag like 1.10 into the number 1.1.
        args += ["--set-string", f"image.tag={image_tag}"] if image_tag else []
        return args + (self.image.values() if self.image else [])

    def _wait(self) -> list[str]:
        return ["--wait", "--timeout", f"{self.timeout_s}s"]

    def upgrade_args(self, extra_values: tuple[Path, ...], image_tag: str | None) -> list[str]:
        args = ["upgrade", "--install", self.release.name, *self.release.chart_args]
        args += self._scope() + self._values(extra_values, image_tag)
        return [*args, "--atomic", *self._wait(), "--history-max", str(HISTORY_MAX), "-o", "json"]

    def template_args(self, extra_values: tuple[Path, ...], image_tag: str | None) -> list[str]:
        """The release's objects as helm would install them, rendered without the cluster."""
        chart = [self.release.name, *self.release.chart_args, "--namespace", self.release.namespace]
        return ["template", *chart, *self._values(extra_values, image_tag)]

    def diff_args(self, extra_values: tuple[Path, ...], image_tag: str | None) -> list[str]:
        """helm-diff's comparison of the installed release with the upgrade; it redacts Secret
        values (marking changed ones) unless told --show-secrets."""
        args = ["diff", "upgrade", self.release.name, *self.release.chart_args, "--install"]
        # "server": lookups see the real cluster, as in the upgrade itself.
        args += ["--dry-run=server", "--context", "3", "--normalize-manifests"]
        return args + self._scope() + self._values(extra_values, image_tag)

    def status_args(self) -> list[str]:
        return ["status", self.release.name, *self._scope(), "--output", "json"]

    def rollback_args(self, revision: int | None) -> list[str]:
        target = [str(revision)] if revision else []
        return ["rollback", self.release.name, *target, *self._scope(), *self._wait()]

    def uninstall_args(self) -> list[str]:
        return ["uninstall", self.release.name, *self._scope(), *self._wait()]

    def run(self, args: list[str]) -> str:
        argv = [str(self.binary), *args]
        # The pinned helm-diff (`make tools`) rather than whatever plugins the user has.
        env = {**os.environ, "HELM_PLUGINS": str(HELM_PLUGINS)}
        done = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)  # noqa: S603
        if done.returncode != 0:
            raise HelmFailed(argv, done.returncode, done.stderr)
        return done.stdout

    def run_json(self, args: list[str]) -> Any:
        return json.loads(self.run(args))
