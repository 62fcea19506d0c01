"""The harness's pinned versions and rendered configs, checked without a cluster."""

import os
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.cluster.conftest import CLUSTER, VERSIONS

K8S = VERSIONS["KUBERNETES_VERSION"]


def render(template: str) -> str:
    """What cluster/up writes from a template, with the harness's own variables."""
    return subprocess.run(
        ["bash", "-c", '. cluster/lib.sh && render_file "$1"', "render", template],
        cwd=CLUSTER.parent,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_wrapper_module_builds_the_pinned_kubernetes_with_matching_staging_modules():
    gomod = (CLUSTER / "build/kubernetes/go.mod").read_text()
    assert re.search(rf"^\s*k8s\.io/kubernetes {re.escape(K8S)}\b", gomod, re.M)
    staging = re.findall(r"^\s*(k8s\.io/\S+) => (\S+) (\S+)$", gomod, re.M)
    assert len(staging) > 25
    # v1.34.4 publishes its staging modules as v0.34.4.
    assert all(
        module == target and version == "v0" + K8S[2:] for module, target, version in staging
    )


@pytest.mark.parametrize("template", sorted(p.name for p in (CLUSTER / "addons").glob("*.yaml")))
def test_addon_manifests_are_valid_for_the_pinned_kubernetes(template):
    for doc in yaml.safe_load_all(render(f"cluster/addons/{template}")):
        # Kinds of the Gateway API CRDs (Traefik's GatewayClass) have no built-in schema.
        if doc["apiVersion"].startswith("gateway.networking.k8s.io/"):
            assert doc["kind"] == "GatewayClass", doc
            continue
        kubernetes_validate.validate(doc, K8S.lstrip("v").rsplit(".", 1)[0] + ".0", strict=True)


@pytest.mark.parametrize(
    "template", ["containerd.toml", "10-bridge.conflist", "kubelet.yaml", "kube-proxy.yaml"]
)
def test_node_configs_render_with_every_variable_filled(template):
    rendered = render(f"cluster/node/{template}")
    assert "${" not in rendered
    assert "/.local/cluster/" in rendered


def run_up(*wrapper: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*wrapper, "bash", str(CLUSTER / "up")],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_up_without_root_stops_with_one_line_naming_the_reason():
    nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    if subprocess.run([*nobody, "test", "-r", str(CLUSTER / "up")], check=False).returncode:
        pytest.skip("this checkout is not readable by an unprivileged user")
    result = run_up(*nobody)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "cluster: cluster cannot start: needs root (it creates a network namespace and cgroups)"
    ]


@pytest.mark.skipif(os.geteuid() != 0, reason="creates a network namespace")
def test_up_leaves_a_namespace_it_does_not_own_alone(tmp_path):
    netns = Path("/run/netns/items-api-cluster")
    ours = not netns.exists()  # a running cluster's namespace serves as well
    if ours:
        subprocess.run(["ip", "netns", "add", netns.name], check=True)
    try:
        result = run_up(CLUSTER_STATE=str(tmp_path / "state"))
    finally:
        if ours:
            subprocess.run(["ip", "netns", "delete", netns.name], check=True)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("cluster: network cannot start: namespace items-api-cluster is in use")
    assert not (tmp_path / "state").exists()


def test_a_part_that_exits_is_named_with_the_error_from_its_log(tmp_path):
    (tmp_path / "pids").mkdir()
    (tmp_path / "logs").mkdir()
    exited = subprocess.Popen(["true"])
    exited.wait()
    (tmp_path / "pids/etcd.pid").write_text(f"{exited.pid}\n")
    error = "E1123 18:00:00.000000 1 etcd.go:1] listen tcp 127.0.0.1:2379: address already in use"
    (tmp_path / "logs/etcd.log").write_text(f"I1123 starting\n{error}\nI1123 stopped\n")
    result = subprocess.run(
        ["bash", "-c", ". cluster/lib.sh && wait_for etcd 30 false"],
        cwd=CLUSTER.parent,
        env={**os.environ, "CLUSTER_STATE": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"cluster: etcd cannot start: exited: {error} (log: {tmp_path}/logs/etcd.log)"
    ]
