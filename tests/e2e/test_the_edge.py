"""NetworkPolicy as the cluster enforces it (kube-network-policies, cluster/README.md): a
release of its own in a namespace of its own, with the e2e values' policies but without the
exception that lets the host drive the scenarios of test_scenarios.py, so only what the chart
admits gets through. Both sides: what must pass (probes, DNS, the migration hook, the
monitoring namespace on the metrics port, the release's clients, the API server's proxy that
`make deploy` verifies through) and what must not (any other pod, on any port)."""

import base64
import json
import ssl
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from deployctl.signature import parse_image_ref

from .cluster import (
    IMAGE_REF,
    PULL_SECRET,
    ROOT,
    app_pods,
    create_pull_secret,
    helm,
    is_ready,
    kubectl,
    kubectl_json,
    wait_for,
)
from .load import Load

# The project's own cluster: its kube-network-policies enforces, its Traefik is the edge.
pytestmark = [pytest.mark.slow, pytest.mark.lab, pytest.mark.timeout(900)]

EDGE_NAMESPACE = "items-api-edge"
RELEASE = "items-api"
SELECTOR = f"app.kubernetes.io/instance={RELEASE},app.kubernetes.io/component=api"
CHART = ROOT / "helm" / "items-api"
E2E_VALUES = ROOT / "deploy" / "values" / "e2e.yaml"
# Set by the chart (items-api.clientLabel): the pods a release admits to its API port.
CLIENT_LABEL = {f"{RELEASE}-client": "true"}

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
    """helm upgrade of the edge's release, always with the app as make e2e published it
    (mk/e2e.mk): by digest from the registry, pulled with the Secret deploy/values/e2e.yaml
    names, which the namespace gets as an operator gives it."""
    by_digest = parse_image_ref(IMAGE_REF).values()
    run = helm(*args, *by_digest, namespace=EDGE_NAMESPACE, timeout=420)
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
    create_pull_secret(EDGE_NAMESPACE)
    # The chart admits the `monitoring` namespace to the metrics port; it may not exist yet.
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "monitoring"}}))  # fmt: skip
    create_pull_secret("monitoring")  # for the probe pod that stands in for a scraper there
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
            "imagePullSecrets": [{"name": PULL_SECRET}],
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
            "containers": [{
                "name": "probe", "image": IMAGE_REF,
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


# -- the edge: Traefik (cluster/addons/traefik.yaml) in front, TLS from a CA made here --------

INGRESS_HOST = "items-api.ingress.test"
ROUTE_HOST = "items-api.route.test"
TLS_SECRET = "items-api-edge-tls"  # pragma: allowlist secret (a Secret's name)


def make_ca_and_certificate(directory: Path) -> tuple[Path, bytes, bytes]:
    """A throwaway CA and a server certificate for both edge hosts: (ca.pem, cert, key)."""

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    now = datetime.now(UTC)
    ca_key, server_key = key(), key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "items-api e2e edge CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, INGRESS_HOST)]))
        .issuer_name(ca_name).public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(INGRESS_HOST), x509.DNSName(ROUTE_HOST)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key_pem = server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )  # fmt: skip
    return ca_pem, server.public_bytes(serialization.Encoding.PEM), key_pem


@pytest.fixture(scope="module")
def edge(release, tmp_path_factory) -> dict:
    """The release behind Traefik as production runs it: the nginx sidecar, an Ingress and an
    HTTPRoute (with its HTTP->HTTPS redirect route) on a Gateway of its own, one certificate."""
    ca_pem, cert, key = make_ca_and_certificate(tmp_path_factory.mktemp("edge-ca"))
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": TLS_SECRET, "namespace": EDGE_NAMESPACE},
        "data": {"tls.crt": base64.b64encode(cert).decode(),
                 "tls.key": base64.b64encode(key).decode()},
    }))  # fmt: skip
    # Traefik maps a listener to the entry point on its port: web 8000, websecure 8443.
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "edge", "namespace": EDGE_NAMESPACE},
        "spec": {"gatewayClassName": "traefik", "listeners": [
            {"name": "http", "protocol": "HTTP", "port": 8000, "hostname": ROUTE_HOST},
            {"name": "https", "protocol": "HTTPS", "port": 8443, "hostname": ROUTE_HOST,
             "tls": {"mode": "Terminate",
                     "certificateRefs": [{"kind": "Secret", "name": TLS_SECRET}]}},
        ]},
    }))  # fmt: skip
    values = {
        "nginx": {"enabled": True},
        "ingress": {
            "enabled": True,
            "hosts": [{"host": INGRESS_HOST,
                       "paths": [{"path": "/api", "pathType": "Prefix"}]}],
            "tls": [{"secretName": TLS_SECRET, "hosts": [INGRESS_HOST]}],
        },
        "httpRoute": {
            "enabled": True,
            "parentRefs": [{"name": "edge", "sectionName": "https"}],
            "hostnames": [ROUTE_HOST],
            "httpsRedirect": {"enabled": True,
                              "parentRefs": [{"name": "edge", "sectionName": "http"}]},
        },
    }  # fmt: skip
    overlay = tmp_path_factory.mktemp("edge-values") / "edge.yaml"
    overlay.write_text(yaml.safe_dump(values))
    edge_helm(
        "upgrade", RELEASE, str(CHART), "-f", str(E2E_VALUES), "-f", str(overlay),
        "--set-json", "networkPolicy.extraIngress=[]", "--set", "replicaCount=1",
        "--wait", "--timeout", "300s",
    )  # fmt: skip
    service = kubectl_json("-n", "traefik", "get", "service", "traefik")
    return {"ip": service["spec"]["clusterIP"], "ca": ca_pem, "overlay": overlay}


def curl(edge: dict, url: str, *args: str) -> tuple[int, str]:
    """curl from the host to Traefik's Service, the host name resolved to it: (status, Location)."""
    host = url.split("/")[2]
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "--max-time", "5",
         "--cacert", str(edge["ca"]), "--resolve", f"{host}:443:{edge['ip']}",
         "--resolve", f"{host}:80:{edge['ip']}", *args, url],
        capture_output=True, text=True, timeout=15, check=False,
    ).stdout.split(" ", 1)  # fmt: skip
    return int(out[0] or 0), out[1] if len(out) > 1 else ""


def test_the_edge_serves_the_api_over_https_and_nothing_private(report, edge):
    started = time.time()
    outcome = {}
    for host in (INGRESS_HOST, ROUTE_HOST):
        outcome[host] = wait_for(
            f"{host} to answer through Traefik",
            lambda h=host: (s := curl(edge, f"https://{h}/api/v1/ping"))[0] == 200 and s,
            timeout=60, every=2,
        )  # fmt: skip
    seen = {
        f"{host} {path}": curl(edge, f"{scheme}://{host}{path}")
        for host in (INGRESS_HOST, ROUTE_HOST)
        for scheme, path in [("http", "/api/v1/ping"), ("https", "/metrics"),
                             ("https", "/readyz"), ("https", "/docs"),
                             ("https", "/openapi.json")]
    }  # fmt: skip
    report.record(
        "edge 3 Traefik: the API over HTTPS (Ingress and HTTPRoute), nothing private",
        started,
        edge=f"Traefik (cluster/addons/traefik.yaml), Service traefik.traefik {edge['ip']}",
        https_ping={host: status for host, (status, _) in outcome.items()},
        responses={k: f"{s} {loc}".strip() for k, (s, loc) in seen.items()},
    )
    for host in (INGRESS_HOST, ROUTE_HOST):
        status, location = seen[f"{host} /api/v1/ping"]
        assert status in (301, 302, 307, 308), seen
        assert location.startswith(f"https://{host}"), seen
        for path in ("/metrics", "/readyz", "/docs", "/openapi.json"):
            assert seen[f"{host} {path}"][0] == 404, (path, seen)


def test_the_login_limit_holds_whatever_x_forwarded_for_a_client_sends(report, edge):
    started = time.time()
    statuses = [
        curl(edge, f"https://{INGRESS_HOST}/api/v1/auth/token", "-X", "POST",
             "-H", f"X-Forwarded-For: 203.0.113.{n}", "-d", "username=nobody&password=wrong")[0]
        for n in range(30)
    ]  # fmt: skip
    report.record(
        "edge 4 login limit through the edge, 30 logins with 30 X-Forwarded-For values",
        started,
        statuses=dict(Counter(statuses)),
    )
    assert 429 in statuses, statuses


def test_a_rollout_through_the_edge_over_https_loses_no_request(report, edge):
    """Two pods behind Traefik, load over HTTPS through the Ingress and the HTTPRoute at once,
    while a changed pod template rolls both pods."""
    started = time.time()
    scale = ("-f", str(E2E_VALUES), "-f", str(edge["overlay"]),
             "--set-json", "networkPolicy.extraIngress=[]", "--set", "replicaCount=2",
             "--wait", "--timeout", "300s")  # fmt: skip
    edge_helm("upgrade", RELEASE, str(CHART), *scale)
    trust = ssl.create_default_context(cafile=edge["ca"])
    loads = {
        host: Load(f"https://{edge['ip']}", headers={"Host": host}, verify=trust,
                   extensions={"sni_hostname": host})
        for host in (INGRESS_HOST, ROUTE_HOST)
    }  # fmt: skip
    for load in loads.values():
        load.__enter__()
    try:
        time.sleep(3)
        rolled = time.monotonic()
        edge_helm("upgrade", RELEASE, str(CHART), *scale,
                  "--set-string", "podAnnotations.e2e/edge-rollout=1")  # fmt: skip
        rollout_seconds = time.monotonic() - rolled
        wait_for(
            "the old pods to be gone",
            lambda: (
                len(pods := app_pods(SELECTOR, namespace=EDGE_NAMESPACE)) == 2
                and all(is_ready(p) and not p["metadata"].get("deletionTimestamp") for p in pods)
            ),
            timeout=120,
        )
        time.sleep(2)
    finally:
        for load in loads.values():
            load.__exit__(None, None, None)
    report.record(
        "edge 5 zero-downtime rollout through Traefik over HTTPS (Ingress and HTTPRoute)",
        started,
        rollout_seconds=round(rollout_seconds, 1),
        **{f"load via {host}": load.summary() for host, load in loads.items()},
    )
    for load in loads.values():
        assert load.total > 50
        assert load.failures == [], load.summary()
