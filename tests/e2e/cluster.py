"""The project's cluster as the e2e scenarios drive it: kubectl, the operator's make targets,
and waiting for pods. Paths come from `make e2e` (mk/e2e.mk) with the harness's defaults."""

import base64
import json
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deployctl.signature import parse_image_ref

from harness.kube import run_kubectl
from harness.wait import eventually

ROOT = Path(__file__).resolve().parents[2]
KUBECONFIG = Path(os.environ.get("KUBECONFIG") or ROOT / ".local/cluster/admin.kubeconfig")
KUBECTL = os.environ.get("E2E_KUBECTL", "kubectl")
HELM = ROOT / ".tools/bin/helm"
ENV = "e2e"
NAMESPACE = "items-api-e2e"
RELEASE = "items-api"
APP_SELECTOR = "app.kubernetes.io/instance=items-api,app.kubernetes.io/component=api"
# What `make e2e` published for this run (mk/e2e.mk, e2e-release), by digest. IMAGE_REF,
# CHART_REF and CHART_VERSION stay in the environment, so every `make deploy` below pulls
# them, as an operator who exported them would.
IMAGE_REF = os.environ.get("IMAGE_REF", "")
NEXT_IMAGE_REF = os.environ.get("E2E_NEXT_IMAGE_REF", "")
UNSIGNED_IMAGE_REF = os.environ.get("E2E_UNSIGNED_IMAGE_REF", "")
CHART_REF = os.environ.get("CHART_REF", "")
CHART_VERSION = os.environ.get("CHART_VERSION", "")
# The Secret deploy/values/e2e.yaml names in image.pullSecrets.
PULL_SECRET = "items-api-registry"  # pragma: allowlist secret (a Secret's name)


def kubectl(*args: str, stdin: str | None = None, check: bool = True, timeout: float = 60) -> str:
    return run_kubectl(KUBECTL, KUBECONFIG, *args, stdin=stdin, check=check, timeout=timeout)


def kubectl_json(*args: str) -> dict:
    return json.loads(kubectl(*args, "-o", "json"))


def helm(
    *args: str, timeout: float = 180, namespace: str = NAMESPACE
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HELM), "--kubeconfig", str(KUBECONFIG), "--namespace", namespace, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class MakeRun:
    command: str
    returncode: int
    output: str
    seconds: float


def make(
    target: str, timeout: float = 600, secrets: dict[str, str] | None = None, **variables: str
) -> MakeRun:
    """`make TARGET ENV=e2e VAR=...` as an operator types it; output is stdout and stderr.
    `secrets` go in the environment, as an operator exports them, not on the command line."""
    argv = ["make", "-s", target, f"ENV={ENV}", *(f"{k}={v}" for k, v in variables.items())]
    started = time.monotonic()
    result = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "KUBECONFIG": str(KUBECONFIG), **(secrets or {})},
        check=False,
    )
    return MakeRun(
        " ".join(argv),
        result.returncode,
        result.stdout + result.stderr,
        time.monotonic() - started,
    )


def create_pull_secret(namespace: str = NAMESPACE) -> None:
    """The registry's credentials in a release's namespace, as an operator hands a private
    GHCR or ECR repository's to a cluster (kubectl create secret docker-registry), sent on
    stdin so the password is on no command line."""
    registry = parse_image_ref(IMAGE_REF).registry
    login = f"{os.environ['REGISTRY_USER']}:{os.environ['REGISTRY_PASSWORD']}"
    config = {"auths": {registry: {"auth": base64.b64encode(login.encode()).decode()}}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": PULL_SECRET, "namespace": namespace},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(secret))


def app_pods(selector: str = APP_SELECTOR, namespace: str = NAMESPACE) -> list[dict]:
    return kubectl_json("-n", namespace, "get", "pods", "-l", selector)["items"]


def is_ready(pod: dict) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def wait_for(what: str, check: Callable[[], object], timeout: float, every: float = 1.0):
    """Polls check() until it returns something truthy and returns that."""
    return eventually(check, what, timeout=timeout, every=every)


def settled(replicas: int) -> bool:
    """Exactly `replicas` app pods, all Ready, none terminating: a rollout has fully ended."""
    pods = app_pods()
    return (
        len(pods) == replicas
        and all(is_ready(p) for p in pods)
        and not any(p["metadata"].get("deletionTimestamp") for p in pods)
    )


# The service answers only the Host names it trusts (TRUSTED_HOSTS, a 400 otherwise); the chart
# trusts the Service's name, the one clients in the cluster use. Requests to an IP send it.
SERVICE_HOST = {"Host": RELEASE}


def service_url(name: str = RELEASE, namespace: str = NAMESPACE, port: str = "http") -> str:
    """The Service's ClusterIP, which the host routes through the node (cluster/README.md)."""
    service = kubectl_json("-n", namespace, "get", "service", name)
    number = next(p["port"] for p in service["spec"]["ports"] if p["name"] == port)
    return f"http://{service['spec']['clusterIP']}:{number}"


def pod_events(pod_name: str) -> list[str]:
    events = kubectl_json(
        "-n", NAMESPACE, "get", "events", "--field-selector", f"involvedObject.name={pod_name}"
    )["items"]
    return [f"{e['type']} {e['reason']}: {e['message']}" for e in events]
