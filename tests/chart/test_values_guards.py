"""Values that pass the schema but would render objects the API server rejects, or that would
run differently from what the chart promises, are refused by name; the operator conveniences
render valid objects."""

import base64
import json
import re

import kubernetes_validate
import pytest
import yaml

from tests.chart.render import (
    CHART,
    NAMESPACE,
    RELEASE,
    SECRETS,
    app_container,
    env_values,
    helm,
    one,
    pod_spec,
    render,
    render_error,
)
from tests.chart.render import notes as render_notes

# The oldest Kubernetes minor the chart supports (mk/chart.mk's CHART_KUBE_VERSIONS).
KUBE = "1.29.0"
SIDECAR = ("--set", "nginx.enabled=true")
BUNDLED_DB = ("--set", "postgresql.enabled=true", "--set", "postgresql.auth.password=pw",
              "--set", "config.environment=test")  # fmt: skip


def assert_valid(docs: list[dict]) -> None:
    for doc in docs:
        kubernetes_validate.validate(doc, KUBE, strict=True)


# -- keys the chart owns ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--set", "podLabels.app\\.kubernetes\\.io/name=other"],
         "podLabels.app.kubernetes.io/name"),
        (["--set", "podLabels.app\\.kubernetes\\.io/component=worker"],
         "podLabels.app.kubernetes.io/component"),
        (["--set", "commonLabels.app\\.kubernetes\\.io/instance=other"],
         "commonLabels.app.kubernetes.io/instance"),
        (["--set", "commonLabels.app\\.kubernetes\\.io/managed-by=me"],
         "commonLabels.app.kubernetes.io/managed-by"),
        (["--set", "config.extraEnv.PORT=9000"], "config.extraEnv.PORT"),
        (["--set", "config.extraEnv.LOG_LEVEL=DEBUG"], "config.extraEnv.LOG_LEVEL"),
        # Set by the chart only for some values; still the chart's (the budget counts them).
        (["--set", "config.extraEnv.WEB_CONCURRENCY=16"], "config.extraEnv.WEB_CONCURRENCY"),
        (["--set", "config.extraEnv.TRUSTED_HOSTS=*"], "config.extraEnv.TRUSTED_HOSTS"),
        # From the Secret, which envFrom lists after the ConfigMap: the override would be lost.
        (["--set", "config.extraEnv.DATABASE_URL=postgresql://x"], "config.extraEnv.DATABASE_URL"),
        (["--set-json", 'extraEnvVars=[{"name": "PORT", "value": "9000"}]'],
         "extraEnvVars[0].name PORT"),
        (["--set", "config.extraEnv.SENTRY_DSN=a",
          "--set-json", 'extraEnvVars=[{"name": "SENTRY_DSN", "value": "b"}]'],
         "extraEnvVars[0].name SENTRY_DSN is set twice"),
    ],
    ids=["pod-selector-name", "pod-selector-component", "common-selector-instance",
         "common-managed-by", "env-port", "env-log-level", "env-web-concurrency",
         "env-trusted-hosts", "env-database-url", "env-var-port", "env-var-twice"],
)  # fmt: skip
def test_overriding_what_the_chart_sets_is_refused_by_name(args, named):
    error = render_error(*SECRETS, *args)
    assert "VALUES VALIDATION" in error
    assert named in error


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--set-json", 'extraVolumes=[{"name": "tmp", "emptyDir": {}}]'],
         "extraVolumes[0].name tmp: the pod already has a volume of that name"),
        ([*SIDECAR, "--set-json", 'extraVolumes=[{"name": "nginx-run", "emptyDir": {}}]'],
         "extraVolumes[0].name nginx-run"),
        (["--set-json", 'extraVolumeMounts=[{"name": "x", "mountPath": "/tmp/metrics"}]'],
         "extraVolumeMounts[0].mountPath /tmp/metrics"),
        ([*SIDECAR, "--set-json", 'sidecars=[{"name": "nginx", "image": "nginx:1"}]'],
         "sidecars[0].name nginx: the pod already has a container of that name"),
        ([*BUNDLED_DB, "--set-json", 'initContainers=[{"name": "migrate", "image": "x:1"}]'],
         "initContainers[0].name migrate"),
    ],
    ids=["volume-tmp", "volume-nginx", "mount-metrics", "sidecar-nginx", "init-migrate"],
)  # fmt: skip
def test_extra_volumes_and_containers_may_not_reuse_the_charts_names(args, named):
    assert named in render_error(*SECRETS, *args)


def test_labels_and_env_of_ones_own_render_once_each():
    docs = render(*SECRETS, "--set", "podLabels.team=payments", "--set", "commonLabels.tier=api",
                  "--set", "config.extraEnv.ACCESS_LOG_EXCLUDE_PATHS=/livez")  # fmt: skip
    pod_labels = one(docs, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["team"] == "payments"
    assert pod_labels["tier"] == "api"
    assert one(docs, "ConfigMap")["data"]["ACCESS_LOG_EXCLUDE_PATHS"] == "/livez"


# -- requests, limits and the workers' memory ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--set", "resources.requests.memory=1Gi"],
         "resources.requests.memory (1Gi) is above resources.limits.memory (512Mi)"),
        (["--set", "resources.requests.cpu=1500m"],
         "resources.requests.cpu (1500m) is above resources.limits.cpu (1)"),
        ([*SIDECAR, "--set", "nginx.resources.requests.memory=129Mi"],
         "nginx.resources.requests.memory (129Mi) is above nginx.resources.limits.memory"),
        ([*BUNDLED_DB, "--set", "postgresql.resources.limits.memory=128Mi"],
         "postgresql.resources.requests.memory (256Mi) is above postgresql.resources.limits"),
        (["--set", "migrations.resources.requests.memory=1G"],
         "migrations.resources.requests.memory (1G) is above"),
    ],
    ids=["app-memory", "app-cpu", "nginx-memory", "postgresql-memory", "migrations-decimal"],
)  # fmt: skip
def test_a_request_above_its_limit_is_refused(args, named):
    assert named in render_error(*SECRETS, *args)


def test_a_request_equal_to_its_limit_renders():
    deployment = one(render(*SECRETS, "--set", "resources.requests.memory=512Mi",
                            "--set", "resources.requests.cpu=1000m"), "Deployment")  # fmt: skip
    assert app_container(deployment)["resources"]["requests"]["memory"] == "512Mi"


def test_a_memory_limit_one_worker_does_not_fit_is_refused_not_shrunk_to_one_worker():
    # 60 MiB master + 120 MiB worker: 179Mi cannot hold one.
    args = ("--set", "resources.requests.memory=128Mi", "--set", "resources.limits.memory=179Mi")
    error = render_error(*SECRETS, *args)
    assert "resources.limits.memory 179Mi (179 MiB) is below what one worker needs" in error
    assert "workers.memoryPerWorkerMb 120" in error
    deployment = one(render(*SECRETS, *args, "--set", "workers.memoryPerWorkerMb=119"),
                     "Deployment")  # fmt: skip
    assert deployment["metadata"]["annotations"]["items-api/max-workers-per-pod"] == "1"


@pytest.mark.parametrize(
    ("args", "workers"),
    [
        ((), "3"),  # 512Mi: (512 - 60) // 120 = 3 of workers.max 8
        (("--set", "resources.limits.memory=2Gi"), "8"),
        (("--set", "resources.limits.memory=2Gi", "--set", "workers.max=4"), "4"),
        (("--set", "workers.webConcurrency=2"), "2"),
        (("--set-json", "resources.limits.memory=null"), "8"),
    ],
    ids=["memory-fits-3", "max", "lower-max", "fixed", "no-memory-limit"],
)  # fmt: skip
def test_the_budget_counts_the_most_workers_a_pod_can_start(args, workers):
    annotations = one(render(*SECRETS, *args), "Deployment")["metadata"]["annotations"]
    assert annotations["items-api/max-workers-per-pod"] == workers
    # replicaCount 2 + surge 1 pods, pool 5 + overflow 0 per worker
    assert annotations["items-api/connection-budget"] == str(3 * int(workers) * 5)


# -- ports -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ([*SIDECAR, "--set", "nginx.port=8000"],
         "containerPorts.http and nginx.port are both 8000"),
        ([*SIDECAR, "--set", "nginx.statusPort=8080"],
         "nginx.port and nginx.statusPort are both 8080"),
        ([*SIDECAR, "--set", "containerPorts.http=8081"],
         "containerPorts.http and nginx.statusPort are both 8081"),
        (["--set-json", 'sidecars=[{"name": "exporter", "image": "e:1",'
                        ' "ports": [{"containerPort": 8000}]}]'],
         "containerPorts.http and sidecars[0].ports[0].containerPort are both 8000"),
        (["--set", "service.ports.metrics=80"],
         "service.ports.http and service.ports.metrics are both 80"),
    ],
    ids=["nginx-on-app-port", "status-on-proxy-port", "app-on-status-port", "sidecar",
         "service"],
)  # fmt: skip
def test_two_listeners_on_one_port_are_refused(args, named):
    assert named in render_error(*SECRETS, *args)


def test_the_nginx_port_may_equal_the_app_port_when_nginx_is_off():
    render(*SECRETS, "--set", "nginx.port=8000")


def test_one_value_sets_the_bundled_postgresql_port_everywhere():
    docs = render(*SECRETS, *BUNDLED_DB, "--set", "postgresql.service.port=6543",
                  "--set", "networkPolicy.enabled=true")  # fmt: skip
    name = f"{RELEASE}-postgresql"
    container = pod_spec(one(docs, "StatefulSet", name))["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["PGPORT"] == "6543"  # what postgres and pg_isready use
    assert container["ports"][0]["containerPort"] == 6543
    assert one(docs, "Service", name)["spec"]["ports"][0]["port"] == 6543
    database_policy = one(docs, "NetworkPolicy", name)["spec"]
    assert database_policy["ingress"][0]["ports"] == [{"port": 6543, "protocol": "TCP"}]
    app_policy = one(docs, "NetworkPolicy")["spec"]
    egress_ports = [p for rule in app_policy["egress"] for p in rule["ports"]]
    assert {"port": 6543, "protocol": "TCP"} in egress_ports
    url = base64.b64decode(one(docs, "Secret")["data"]["DATABASE_URL"]).decode()
    assert f"@{name}:6543/" in url


# -- names -----------------------------------------------------------------------------------

# Helm's own limit on release names; the schema lets fullnameOverride reach 63.
LONG_RELEASE = "r" * 53


@pytest.mark.parametrize(
    "args",
    [("--set", f"fullnameOverride={'f' * 63}"), ("--set", f"nameOverride={'n' * 40}")],
    ids=["fullname-override-63", "long-release-and-name"],
)
def test_long_names_still_make_statefulset_pods_kubernetes_accepts(args):
    result = render_long(*args)
    statefulset = next(d for d in result if d["kind"] == "StatefulSet")
    name = statefulset["metadata"]["name"]
    # The controller labels pods controller-revision-hash=<name>-<10-character hash>, and
    # names them <name>-0; both must be 63-character DNS labels.
    assert len(f"{name}-0123456789") <= 63, name
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name)
    assert statefulset["spec"]["serviceName"] == name
    for doc in result:
        assert len(doc["metadata"]["name"]) <= 63, doc["metadata"]["name"]
    assert_valid(result)


def render_long(*args: str) -> list[dict]:
    result = helm("template", LONG_RELEASE, str(CHART), "--namespace", NAMESPACE,
                  *SECRETS, *BUNDLED_DB, *args)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


# -- NOTES.txt ---------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), SIDECAR], ids=["gunicorn", "nginx-sidecar"])
def test_notes_readyz_command_reaches_gunicorn(args):
    docs = render(*SECRETS, *args)
    text = render_notes(*SECRETS, *args)
    forward, curl = re.search(r"(port-forward \S+ \d+:\d+)\n\s*curl (\S+/readyz)", text).groups()
    target, local, remote = re.fullmatch(r"port-forward (\S+) (\d+):(\d+)", forward).groups()
    assert curl.startswith(f"http://127.0.0.1:{local}/")
    # nginx answers /readyz with 404 (nginx/templates/api.conf): the port must be gunicorn's.
    container = app_container(one(docs, "Deployment"))
    if target.startswith("service/"):
        port = next(p for p in one(docs, "Service")["spec"]["ports"] if p["port"] == int(remote))
        assert port["targetPort"] == "http"
    else:
        assert target == f"deployment/{RELEASE}"
        assert int(remote) == container["ports"][0]["containerPort"]
        assert container["ports"][0]["name"] == "http"


# -- operator conveniences ---------------------------------------------------------------------


def test_extra_env_volumes_containers_and_digest_render_valid_objects():
    values = {
        "extraEnvVars": [
            {"name": "SENTRY_DSN", "valueFrom": {"secretKeyRef": {"name": "sentry", "key": "dsn"}}},
            {"name": "FEATURE_X", "valueFrom": {"configMapKeyRef": {"name": "flags", "key": "x"}}},
            {"name": "RELEASE_NAME", "value": "{{ .Release.Name }}"},
        ],
        "extraVolumes": [{"name": "ca", "configMap": {"name": "corporate-ca"}}],
        "extraVolumeMounts": [{"name": "ca", "mountPath": "/etc/ssl/corporate", "readOnly": True}],
        "sidecars": [{"name": "exporter", "image": "exporter:1",
                      "ports": [{"name": "exporter", "containerPort": 9113}],
                      "resources": {"limits": {"cpu": "100m", "memory": "32Mi"}}}],
        "initContainers": [{"name": "wait", "image": "busybox:1.36", "command": ["true"]}],
        "postgresql": {"image": {"digest": "sha256:" + "a" * 64}},
    }  # fmt: skip
    args = [f"--set-json={k}={json.dumps(v)}" for k, v in values.items()]
    docs = render(*SECRETS, *BUNDLED_DB, *args)
    spec = pod_spec(one(docs, "Deployment"))
    app = app_container(one(docs, "Deployment"))
    env = {e["name"]: e for e in app["env"]}
    assert env["SENTRY_DSN"]["valueFrom"] == {"secretKeyRef": {"name": "sentry", "key": "dsn"}}
    assert env["FEATURE_X"]["valueFrom"]["configMapKeyRef"]["name"] == "flags"
    assert env["RELEASE_NAME"]["value"] == RELEASE
    mount = {"name": "ca", "mountPath": "/etc/ssl/corporate", "readOnly": True}
    assert mount in app["volumeMounts"]
    assert {"name": "ca", "configMap": {"name": "corporate-ca"}} in spec["volumes"]
    assert [c["name"] for c in spec["containers"]] == ["items-api", "exporter"]
    # The chart's migrate comes first: the user's init containers see a migrated database.
    assert [c["name"] for c in spec["initContainers"]] == ["migrate", "wait"]
    database = pod_spec(one(docs, "StatefulSet", f"{RELEASE}-postgresql"))["containers"][0]
    assert database["image"] == "docker.io/library/postgres@sha256:" + "a" * 64
    assert_valid(docs)


@pytest.mark.parametrize(
    ("value", "named"),
    [
        ('[{"name": "X", "value": "a", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]',
         "extraEnvVars/0"),
        ('[{"name": "X", "valueFrom": {"secretKeyRef": {"name": "s"}}}]', "key"),
        ('[{"value": "a"}]', "name"),
    ],
    ids=["value-and-valuefrom", "secret-without-key", "no-name"],
)  # fmt: skip
def test_malformed_extra_env_vars_fail_the_schema(value, named):
    error = render_error(*SECRETS, f"--set-json=extraEnvVars={value}")
    assert "extraEnvVars" in error
    assert named in error


def test_production_still_renders_with_its_budget():
    annotations = one(render(*env_values("production")), "Deployment")["metadata"]["annotations"]
    assert annotations["items-api/connection-budget"] == "90"


def test_a_memory_quantity_kubernetes_rejects_fails_the_schema_naming_it():
    # Kubernetes takes k (decimal) and Ki (binary); a capital K alone is no suffix there.
    error = render_error(*SECRETS, "--set", "resources.limits.memory=512K")
    assert "at '/resources/limits/memory': '512K' does not match pattern" in error
    one(render(*SECRETS, "--set", "resources.limits.memory=524288Ki"), "Deployment")
