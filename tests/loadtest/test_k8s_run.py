"""`make loadtest-k8s` without a cluster stops before touching anything and says how to get
one (the run itself, on real pods, is e2e scenario 6b)."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_no_cluster_is_named_with_how_to_start_one(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    env["PROJECT_KUBECONFIG"] = str(tmp_path / "admin.kubeconfig")
    result = subprocess.run(
        [REPO / "loadtest/k8s/run", "helm", "chart", "release", "ns", "image"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr == "loadtest-k8s: no cluster: set KUBECONFIG or run make cluster-up\n"
