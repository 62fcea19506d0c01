"""The running cluster as a user of `make cluster-up` sees it (deselected without one)."""

import json
import subprocess
import urllib.request

import pytest

from harness.wait import eventually
from tests.cluster.conftest import CLUSTER, KUBECONFIG, VERSIONS, kubectl, kubectl_json

pytestmark = pytest.mark.cluster

# Any image with python3 serves; the app image is what `make test` builds anyway.
SMOKE_IMAGE = "localhost/items-api:dev"


def test_node_is_ready_and_runs_the_pinned_version():
    node = kubectl_json("get", "node", "items-api-node")
    ready = {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"]
    assert ready == "True"
    assert node["status"]["nodeInfo"]["kubeletVersion"] == VERSIONS["KUBERNETES_VERSION"]
    server = json.loads(kubectl("version", "-o", "json"))["serverVersion"]
    assert server["gitVersion"] == VERSIONS["KUBERNETES_VERSION"]


@pytest.mark.slow
def test_metrics_api_reports_the_node():
    nodes = eventually(
        lambda: json.loads(kubectl("get", "--raw", "/apis/metrics.k8s.io/v1beta1/nodes"))["items"],
        "node metrics",
        timeout=90,
        every=1,
    )
    assert nodes[0]["metadata"]["name"] == "items-api-node"


@pytest.mark.slow
def test_cluster_up_again_keeps_the_running_cluster():
    pids = {p.name: p.read_text() for p in (KUBECONFIG.parent / "pids").iterdir()}
    result = subprocess.run(
        [str(CLUSTER / "up")], capture_output=True, text=True, timeout=300, check=True
    )
    assert result.stdout.strip().splitlines()[-1] == str(KUBECONFIG)
    assert {p.name: p.read_text() for p in (KUBECONFIG.parent / "pids").iterdir()} == pids


@pytest.fixture(scope="module")
def web(namespace):
    """A pod serving HTTP from the locally built base image, behind a ClusterIP Service."""
    images = subprocess.run(["podman", "image", "exists", SMOKE_IMAGE], check=False)
    if images.returncode != 0:
        pytest.skip(f"{SMOKE_IMAGE} is not built (make image)")
    subprocess.run([str(CLUSTER / "images"), SMOKE_IMAGE], check=True, capture_output=True)
    manifest = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "web", "labels": {"app": "web"}},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": SMOKE_IMAGE,
                            "imagePullPolicy": "Never",
                            "command": ["python3", "-m", "http.server", "8080", "-d", "/etc"],
                            "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                        }
                    ]
                },
            },
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
            },
        ],
    }
    kubectl("-n", namespace, "apply", "-f", "-", stdin=json.dumps(manifest))
    kubectl(
        "-n", namespace, "wait", "--for=condition=Ready", "pod/web", "--timeout=120s", timeout=150
    )
    return namespace


@pytest.mark.slow
def test_pod_from_a_local_image_answers_through_its_service_from_the_host(web):
    cluster_ip = kubectl("-n", web, "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}")
    with urllib.request.urlopen(f"http://{cluster_ip}/hostname", timeout=10) as response:
        assert response.status == 200
    # The pod's own log shows the request, read through the API server from the kubelet.
    assert "GET /hostname" in kubectl("-n", web, "logs", "web")


@pytest.mark.slow
def test_pods_resolve_services_by_name_through_cluster_dns(web):
    address = kubectl(
        "-n",
        web,
        "exec",
        "web",
        "--",
        "python3",
        "-c",
        f"import socket; print(socket.gethostbyname('web.{web}.svc.cluster.local'))",
    ).strip()
    assert address == kubectl(
        "-n", web, "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"
    )
