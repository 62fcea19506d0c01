"""The chart's sidecar runs the same config as nginx/render.py, read from nginx/templates."""

import tarfile
from pathlib import Path

from nginx import render
from tests.chart.render import CHART, RELEASE, SECRETS, helm, one, pod_spec, render_error
from tests.chart.render import render as render_chart
from tests.nginx.conftest import assert_nginx_accepts

SIDECAR = ("--set", "nginx.enabled=true", *SECRETS)


def nginx_configmap(docs: list[dict]) -> dict:
    (configmap,) = [
        d
        for d in docs
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith(f"{RELEASE}-nginx-")
    ]
    return configmap


def sidecar(docs: list[dict]) -> dict:
    deployment = one(docs, "Deployment")
    return next(c for c in pod_spec(deployment)["containers"] if c["name"] == "nginx")


def test_chart_configmap_is_the_sidecar_rendering_byte_for_byte():
    data = nginx_configmap(render_chart(*SIDECAR))["data"]

    assert data == render.render(render.values_for("sidecar"))


# Chart values and the placeholders render.py would take for them.
VALUE_OVERRIDES = {
    "nginx.port=9090": {"HTTP_PORT": "9090"},
    "nginx.proxy.readTimeout=45s": {"PROXY_READ_TIMEOUT": "45s"},
    "nginx.proxy.buffering=false": {"PROXY_BUFFERING": "off"},
    "nginx.rateLimit.rate=50r/s": {"RATE_LIMIT": "50r/s"},
    "nginx.upstreamKeepalive.timeoutSeconds=30": {"UPSTREAM_KEEPALIVE_TIMEOUT": "30s"},
    "containerPorts.http=8010": {"UPSTREAM": "127.0.0.1:8010"},
}


def test_chart_values_reach_the_config_as_render_py_overrides_do():
    sets = [arg for value in VALUE_OVERRIDES for arg in ("--set", value)]
    data = nginx_configmap(render_chart(*SIDECAR, *sets))["data"]

    placeholders = {k: v for override in VALUE_OVERRIDES.values() for k, v in override.items()}
    assert data == render.render(render.values_for("sidecar", placeholders))


def test_a_config_change_renames_the_configmap_so_pods_roll():
    before = nginx_configmap(render_chart(*SIDECAR))["metadata"]["name"]
    docs = render_chart(*SIDECAR, "--set", "nginx.clientMaxBodySize=2m")
    after = nginx_configmap(docs)["metadata"]["name"]

    assert before != after
    volumes = {v["name"]: v for v in pod_spec(one(docs, "Deployment"))["volumes"]}
    assert volumes["nginx-config"]["configMap"]["name"] == after


def test_sidecar_is_hardened_probed_and_writes_only_to_its_emptydir():
    docs = render_chart(*SIDECAR)
    container = sidecar(docs)
    volumes = {v["name"]: v for v in pod_spec(one(docs, "Deployment"))["volumes"]}

    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "nginx-status"}
    assert container["readinessProbe"]["tcpSocket"] == {"port": "proxy"}
    assert container["resources"]["limits"]["memory"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/nginx/items-api"]["readOnly"] is True
    assert "emptyDir" in volumes[mounts["/tmp/nginx"]["name"]]
    assert container["image"] == "localhost/items-api-nginx:1.22"


def test_no_sidecar_and_no_nginx_configmap_by_default():
    docs = render_chart(*SECRETS)

    assert not [d for d in docs if d["metadata"]["name"].startswith(f"{RELEASE}-nginx-")]
    assert [c["name"] for c in pod_spec(one(docs, "Deployment"))["containers"]] == ["items-api"]


def test_upstream_idle_timeout_at_or_above_the_apps_keepalive_is_refused():
    error = render_error(*SIDECAR, "--set", "nginx.upstreamKeepalive.timeoutSeconds=75")

    assert "must be below config.keepaliveSeconds" in error


def test_packaged_chart_carries_the_templates_themselves(tmp_path: Path):
    result = helm("package", str(CHART), "--destination", str(tmp_path))
    assert result.returncode == 0, result.stderr

    (package,) = tmp_path.glob("*.tgz")
    with tarfile.open(package) as archive:
        packaged = {
            Path(member.name).name: archive.extractfile(member).read().decode()
            for member in archive.getmembers()
            if "/files/nginx/" in member.name
        }
    assert packaged == render.templates()


def test_chart_rendering_passes_nginx_t(tmp_path: Path):
    # The ConfigMap as the pod mounts it; only the run directory moves out of /tmp/nginx.
    tmp_path.chmod(0o755)
    for name, text in nginx_configmap(render_chart(*SIDECAR))["data"].items():
        (tmp_path / name).write_text(text.replace("/tmp/nginx", str(tmp_path / "run")))
    (tmp_path / "run").mkdir()

    assert_nginx_accepts(tmp_path / "nginx.conf")
