"""NetworkPolicy as the cluster enforces it (kube-network-policies, cluster/README.md): a
release of its own in a namespace of its own, with the e2e values' policies but without the
exception that lets the host drive the scenarios of test_scenarios.py, so only what the chart
admits gets through. Both sides: what must pass (probes, DNS, the migration hook, the
monitoring namespace on the metrics port, the release's clients, the API server's proxy that
`make deploy` verifies through) and what must not (any other pod, on any port)."""

import json
import time

import pytest
import yaml

from .cluster import ROOT, app_pods, helm, is_ready, kubectl, kubectl_json, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EDGE_NAMESPACE = "items-api-edge"
RELEASE = "items-api"
SELECTOR = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=api"
CHART = ROOT / "helm" / "items-api"
E2E_VALUES = ROOT / "deploy" / "values" / "e2e.yaml"
# Set by the chart (items-api.clientLabel): the pods a release admits to its API port.
CLIENT_LABEL = {f"{RELEASE}-client": "true"}
PROBE_IMAGE = "localhost/items-api:dev"

# Run in a probe pod: a TCP connect to each target; a policy drops the SYN, so a denied
# connection times out, while a reachable port that nothing serves would be refused.
CONNECT = """
import json, socket, sys
out = {}
for name, host, port in json.loads(sys.argv[1]):
    try:
        socket.create_connection((host, port), timeout=3).close()
        out[name] = "open"
    except TimeoutError:
        out[name] = "timeout"
    except OSError as exc:
        out[name] = f"{type(exc).__name__} {exc.errno}"
print(json.dumps(out))
"""


def edge_helm(*args: str) -> None:
    run = helm(*args, namespace=EDGE_NAMESPACE, timeout=420)
    assert run.returncode == 0, run.stdout + run.stderr


def install(revision_note: str) -> None:
    """The release with the e2e values minus their host exception (extraIngress), as staging
    runs it: policies on, only the chart's own rules."""
    edge_helm(
        "upgrade", "--install", RELEASE, str(CHART), "-f", str(E2E_VALUES),
        "--set-json", "networkPolicy.extraIngress=[]", "--set", "replicaCount=1",
        "--set-string", f"podAnnotations.e2e/edge={revision_note}",
        "--wait", "--timeout", "300s",
    )  # fmt: skip


@pytest.fixture(scope="module")
def release() -> dict:
    """Installed, then upgraded once (the upgrade runs the pre-upgrade migration hook Job)."""
    if kubectl("get", "namespace", EDGE_NAMESPACE, "--ignore-not-found", "-o", "name").strip():
        kubectl("delete", "namespace", EDGE_NAMESPACE, timeout=240)
    kubectl("create", "namespace", EDGE_NAMESPACE)
    # The chart admits the `monitoring` namespace to the metrics port; it may not exist yet.
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}))  # fmt: skip
    started = time.time()
    install("1")
    install("2")
    # The upgrade's old pod may still be terminating: only the one that stays counts.
    pods = wait_for(
        "one Ready app pod, none terminating",
        lambda: [
            p for p in app_pods(SELECTOR, namespace=EDGE_NAMESPACE)
            if is_ready(p) and not p["metadata"].get("deletionTimestamp")
        ] if len(app_pods(SELECTOR, namespace=EDGE_NAMESPACE)) == 1 else None,
        timeout=120,
    )  # fmt: skip
    service = kubectl_json("-n", EDGE_NAMESPACE, "get", "service", RELEASE)
    postgres = kubectl_json("-n", EDGE_NAMESPACE, "get", "pod", f"{RELEASE}-postgresql-0")
    return {
        "started": started,
        "pods": pods,
        "pod_ip": pods[0]["status"]["podIP"],
        "service_ip": service["spec"]["clusterIP"],
        "service_port": next(p["port"] for p in service["spec"]["ports"] if p["name"] == "http"),
        "postgres_ip": postgres["status"]["podIP"],
    }


def probe(name: str, namespace: str, labels: dict[str, str], targets: list[tuple]) -> dict:
    """A one-off pod of the app's image, with only `labels`, connecting to `targets`."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"e2e": "edge", **labels}},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
            "containers": [{
                "name": "probe", "image": PROBE_IMAGE, "imagePullPolicy": "Never",
                "command": ["python", "-c", CONNECT, json.dumps(targets)],
                "resources": {"requests": {"cpu": "10m", "memory": "32Mi"},
                              "limits": {"memory": "64Mi"}},
                "securityContext": {"readOnlyRootFilesystem": True,
                                    "allowPrivilegeEscalation": False},
            }],
        },
    }  # fmt: skip
    kubectl("-n", namespace, "delete", "pod", name, "--ignore-not-found", "--wait=true")
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(pod))
    wait_for(
        f"probe pod {name} to finish",
        lambda: (
            kubectl_json("-n", namespace, "get", "pod", name)["status"].get("phase")
            in ("Succeeded", "Failed")
        ),
        timeout=120,
        every=2,
    )
    output = kubectl("-n", namespace, "logs", name)
    kubectl("-n", namespace, "delete", "pod", name, "--wait=false")
    return json.loads(output.strip().splitlines()[-1])


def app_targets(release: dict) -> list[tuple]:
    return [
        ("api pod :8000", release["pod_ip"], 8000),
        ("api Service :http", release["service_ip"], release["service_port"]),
        ("metrics :9000", release["pod_ip"], 9000),
        ("postgresql :5432", release["postgres_ip"], 5432),
    ]


def test_a_pod_without_the_allowed_labels_reaches_neither_app_metrics_nor_database(report, release):
    outsider = probe("e2e-outsider", EDGE_NAMESPACE, {}, app_targets(release))
    # The same probe with the release's client label: the network itself carries it.
    client = probe("e2e-client", EDGE_NAMESPACE, CLIENT_LABEL, app_targets(release))
    monitoring = probe("e2e-scraper", "monitoring", {}, app_targets(release))
    report.record(
        "edge 1 NetworkPolicy enforced: who reaches the app, its metrics and PostgreSQL",
        release["started"],
        enforcer="kube-network-policies (cluster/addons), nfqueue via the xtables NFQUEUE target",
        outsider_same_namespace=outsider,
        release_client_label=client,
        monitoring_namespace=monitoring,
        denied_means="timeout: the SYN is dropped",
    )
    assert outsider == dict.fromkeys(outsider, "timeout")
    assert client["api pod :8000"] == client["api Service :http"] == "open"
    assert client["metrics :9000"] == client["postgresql :5432"] == "timeout"
    assert monitoring["metrics :9000"] == "open"
    assert monitoring["api pod :8000"] == monitoring["postgresql :5432"] == "timeout"


def test_probes_dns_migrations_and_the_api_server_proxy_pass_the_policies(report, release):
    pod = app_pods(SELECTOR, namespace=EDGE_NAMESPACE)[0]
    name, container = pod["metadata"]["name"], pod["spec"]["containers"][0]["name"]
    # DNS (egress to kube-system :53) and the database (egress to PostgreSQL) from the app.
    resolved = kubectl(
        "-n", EDGE_NAMESPACE, "exec", name, "-c", container, "--", "python", "-c",
        f"import socket; print(socket.gethostbyname('{RELEASE}-postgresql'))",
    ).strip()  # fmt: skip
    # Egress elsewhere is cut: CoreDNS's pod is in the DNS namespace, but only :53 is open.
    # (The API server is the node's own process: a pod's packets to it are delivered on the
    # node, past the postrouting hook kube-network-policies polices, so they are not cut.)
    coredns = kubectl_json("-n", "kube-system", "get", "pods", "-l", "k8s-app=kube-dns")
    coredns_ip = coredns["items"][0]["status"]["podIP"]
    egress = json.loads(kubectl(
        "-n", EDGE_NAMESPACE, "exec", name, "-c", container, "--", "python", "-c", CONNECT,
        json.dumps([("CoreDNS pod :53", coredns_ip, 53), ("CoreDNS pod :9153", coredns_ip, 9153),
                    ("API server (node) :6443 via 10.96.0.1:443", "10.96.0.1", 443)]),
    ).strip().splitlines()[-1])  # fmt: skip
    hooks = [
        e["involvedObject"]["name"] + ": " + e["message"]
        for e in kubectl_json("-n", EDGE_NAMESPACE, "get", "events")["items"]
        if e["involvedObject"]["kind"] == "Job" and e["reason"] == "Completed"
    ]
    # What `make deploy` verifies: /readyz through the API server's service proxy.
    readyz = kubectl(
        "get", "--raw", f"/api/v1/namespaces/{EDGE_NAMESPACE}/services/{RELEASE}:http/proxy/readyz"
    )
    restarts = [s["restartCount"] for s in pod["status"]["containerStatuses"]]
    report.record(
        "edge 2 NetworkPolicy enforced: probes, DNS, migration hook, deploy verification",
        release["started"],
        pod_ready=is_ready(pod),
        restarts=restarts,
        dns=f"{RELEASE}-postgresql -> {resolved}",
        migration_hook_job=hooks,
        readyz_via_api_server_proxy=readyz.strip()[:120],
        app_egress=egress,
    )
    assert is_ready(pod)
    assert restarts == [0] * len(restarts)
    assert resolved == release["postgres_ip"]  # a headless Service: the pod's address
    assert hooks, "the pre-upgrade migration Job should have run and completed"
    assert egress["CoreDNS pod :53"] == "open"
    assert egress["CoreDNS pod :9153"] == "timeout"
    assert json.loads(readyz)["status"] == "ok"
