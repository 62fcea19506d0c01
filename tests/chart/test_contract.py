"""The rendered chart against the real service: what the kubelet and `helm test` will ask of a
pod is answered by the service started with the chart's own settings."""

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from harness.service import ServiceProcess
from tests.chart.render import RELEASE, REPO, SECRETS, app_container, one, pod_spec, render

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered() -> list[dict]:
    return render(*SECRETS)


@pytest.fixture(scope="module")
def config(rendered) -> dict[str, str]:
    return one(rendered, "ConfigMap")["data"]


@pytest.fixture
def service(database_url, config):
    # The chart's settings, except where this host differs from a pod: a free loopback port
    # instead of 8000 (and 9000) on all interfaces, and a metrics folder of the test's own.
    skip = {"PORT", "METRICS_PORT", "HOST", "PROMETHEUS_MULTIPROC_DIR"}
    env = {k: v for k, v in config.items() if k not in skip}
    process = ServiceProcess(database_url, workers=1, **env).start()
    try:
        yield process
    finally:
        process.close()


def test_gunicorn_binds_the_container_ports_the_probes_and_the_scrape_use(
    rendered, config, tmp_path
):
    deployment = one(rendered, "Deployment")
    container = app_container(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    secret = {k: base64.b64decode(v).decode() for k, v in one(rendered, "Secret")["data"].items()}
    env = {**os.environ, **config, **secret, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    # gunicorn.conf.py evaluated as gunicorn would, in the environment the pod gets.
    script = (
        "import runpy, json; c = runpy.run_path('service/gunicorn.conf.py');"
        "print(json.dumps({k: c[k] for k in ('bind', 'graceful_timeout')}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    gunicorn = json.loads(result.stdout.splitlines()[-1])
    public, metrics = gunicorn["bind"]
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert public == f"0.0.0.0:{ports[container[probe]['httpGet']['port']]}"
    scraped = {p["name"]: p for p in one(rendered, "Service")["spec"]["ports"]}["metrics"]
    assert metrics == f"0.0.0.0:{ports[scraped['targetPort']]}"

    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    assert pre_stop + gunicorn["graceful_timeout"] < grace


def test_probe_paths_answer_200_from_the_service_under_the_charts_settings(rendered, service):
    container = app_container(one(rendered, "Deployment"))
    # The kubelet sends the pod's IP and port as the Host.
    pod_ip = {"Host": "10.244.3.9:8000"}
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        path = container[probe]["httpGet"]["path"]
        response = httpx.get(f"{service.url}{path}", headers=pod_ip, timeout=5)
        assert response.status_code == 200, probe


def test_the_service_answers_its_in_cluster_names_and_refuses_other_hosts(config, service):
    for host in config["TRUSTED_HOSTS"].split(","):
        authority = f"[{host}]" if ":" in host else host
        response = httpx.get(f"{service.url}/api/v1/ping", headers={"Host": authority}, timeout=5)
        assert response.status_code == 200, host
    evil = httpx.get(f"{service.url}/api/v1/items/", headers={"Host": "evil.example"}, timeout=5)
    assert evil.status_code == 400
    assert "location" not in evil.headers


def test_helm_test_pod_script_passes_against_the_service(rendered, service):
    pod = one(rendered, "Pod", f"{RELEASE}-test")
    command = pod["spec"]["containers"][0]["command"]
    assert command[:2] == ["python", "-c"]
    script = command[2].replace(f"http://{RELEASE}:80", service.url)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "/readyz 200" in result.stdout
    assert "/api/v1/items?limit=1 200" in result.stdout


def test_every_rendered_setting_is_one_the_service_reads(rendered):
    # A misspelt name would be ignored silently, and only show as a wrong default in a cluster.
    from app.core.config import Settings

    names = set(one(rendered, "ConfigMap")["data"]) | set(one(rendered, "Secret")["data"])
    # prometheus_client, not the settings, reads the multiprocess folder.
    unknown = names - set(Settings.model_fields) - {"PROMETHEUS_MULTIPROC_DIR"}
    assert not unknown, f"settings the service does not read: {sorted(unknown)}"


def test_the_migration_hook_migrates_an_empty_database_and_can_run_again(
    postgres, rendered, tmp_path
):
    postgres.psql("CREATE DATABASE chart_hook")
    container = pod_spec(one(rendered, "Job", f"{RELEASE}-migrate"))["containers"][0]
    secret = {k: base64.b64decode(v).decode() for k, v in one(rendered, "Secret")["data"].items()}
    env = {
        **os.environ,
        # The console script, installed in this virtualenv as in the image's.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        **{e["name"]: e["value"] for e in container["env"]},
        **secret,
        "DATABASE_URL": postgres.url("chart_hook"),
        # The pod's /tmp emptyDir.
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
    }
    for _ in range(2):
        result = subprocess.run(container["command"], env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
    assert postgres.psql("SELECT count(*) FROM alembic_version", "chart_hook").strip() == "1"
