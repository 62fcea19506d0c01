import subprocess
from pathlib import Path


def run_kubectl(
    kubectl: str | Path,
    kubeconfig: str | Path,
    *args: str,
    stdin: str | None = None,
    check: bool = True,
    timeout: float = 60,
) -> str:
    """Runs kubectl against one cluster and returns its output; fails naming the command."""
    result = subprocess.run(
        [str(kubectl), "--kubeconfig", str(kubeconfig), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout
