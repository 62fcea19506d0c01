"""Evaluating a module's variables (and provider-free locals) with the real Terraform CLI.

A root module holding only copies of such files needs no provider, so `init`, `plan` and
`apply` run offline: validation blocks and expressions are checked by Terraform (or
OpenTofu with TF=tofu) itself, not by a re-implementation.
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

TF = os.environ.get("TF", "terraform")


class ScratchRoot:
    def __init__(self, workdir: Path, module: Path, files: list[str], outputs: dict[str, str]):
        if shutil.which(TF) is None:
            pytest.fail(f"{TF} is not on PATH (set TF=tofu for OpenTofu)")
        self.workdir = workdir
        for name in files:
            shutil.copy(module / name, workdir / name)
        (workdir / "outputs.tf").write_text(
            "".join(f'output "{name}" {{\n  value = {expr}\n}}\n' for name, expr in outputs.items())
        )
        # An empty CLI configuration of its own: the user's (credentials, plugin cache,
        # or a missing file, which OpenTofu warns about on stdout) stays out of the test.
        (workdir / "cli.tfrc").write_text("")
        self.env = {**os.environ, "TF_CLI_CONFIG_FILE": str(workdir / "cli.tfrc")}
        done = self._run("init", "-input=false", "-no-color")
        assert done.returncode == 0, done.stdout + done.stderr

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [TF, *args], cwd=self.workdir, env=self.env, capture_output=True, text=True, timeout=120
        )

    def _write_inputs(self, inputs: dict) -> str:
        path = self.workdir / "inputs.tfvars.json"
        path.write_text(json.dumps(inputs))
        return f"-var-file={path.name}"

    def output(self, inputs: dict, name: str):
        """Apply with these inputs and return one output's value."""
        done = self._run(
            "apply", "-auto-approve", "-input=false", "-no-color", self._write_inputs(inputs)
        )
        assert done.returncode == 0, done.stdout + done.stderr
        out = self._run("output", "-json", name)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def plan_errors(self, inputs: dict) -> str:
        """Terraform's diagnostics for these inputs ('' when the plan succeeds)."""
        done = self._run("plan", "-input=false", "-no-color", self._write_inputs(inputs))
        return "" if done.returncode == 0 else done.stdout + done.stderr
