"""What the rendered manifests promise an operator: safe rollouts, hardened pods, secrets kept
out of the ConfigMap, migrations before the new pods, and optional parts that really are."""

import base64
import subprocess

import pytest
import yaml

from tests.chart.render import (
    CHART,
    NAMESPACE,
    RELEASE,
    REPO,
    SECRETS,
    app_container,
    env_values,
    kinds,
    one,
    pod_spec,
    render,
    render_error,
    template,
)
from tests.chart.render import notes as render_notes

MIGRATE = f"{RELEASE}-migrate"
GATEWAY_API = ("--api-versions", "gateway.networking.k8s.io/v1/HTTPRoute")


@pytest.fixture(scope="module")
def defaults() -> list[dict]:
    return render(*SECRETS)


@pytest.fixture(scope="module")
def deployment(defaults) -> dict:
    return one(defaults, "Deployment")


def test_probes_hit_the_service_health_endpoints_on_its_port(deployment):
    container = app_container(deployment)
    assert container["ports"] == [
        {"name": "http", "containerPort": 8000, "protocol": "TCP"},
        {"name": "metrics", "containerPort": 9000, "protocol": "TCP"},
    ]
    assert container["startupProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    # Started in < 2 s per the contract; the startup probe allows far more before a restart.
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 10


def test_a_custom_probe_replaces_the_default():
    docs = render(*SECRETS, "--set", "customLivenessProbe.tcpSocket.port=http")
    probe = app_container(one(docs, "Deployment"))["livenessProbe"]
    assert probe == {"tcpSocket": {"port": "http"}}


def every_pod(docs):
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob", "Pod")]


@pytest.mark.parametrize(
    "values",
    [SECRETS, env_values("dev"), env_values("production"),
     ("-f", str(CHART / "ci" / "all-on-values.yaml"), *GATEWAY_API,
      "--api-versions", "monitoring.coreos.com/v1")],
    ids=["defaults", "dev", "production", "all-on"],
)  # fmt: skip
def test_every_pod_runs_hardened(values):
    for obj in every_pod(render(*values)):
        spec = pod_spec(obj)
        name = f"{obj['kind']}/{obj['metadata']['name']}"
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        for container in spec["containers"] + spec.get("initContainers", []):
            context = container["securityContext"]
            where = f"{name} {container['name']}"
            assert context["runAsUser"] >= 10000, where
            assert context["readOnlyRootFilesystem"] is True, where
            assert context["allowPrivilegeEscalation"] is False, where
            assert context["capabilities"]["drop"] == ["ALL"], where
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where


def test_writable_paths_are_emptydirs_and_metrics_live_in_memory(defaults, deployment):
    spec = pod_spec(deployment)
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in app_container(deployment)["volumeMounts"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    assert volumes[mounts["/tmp/metrics"]]["emptyDir"]["medium"] == "Memory"
    assert one(defaults, "ConfigMap")["data"]["PROMETHEUS_MULTIPROC_DIR"] == "/tmp/metrics"
    assert app_container(deployment)["securityContext"]["runAsUser"] == 10001


def test_rollouts_never_drop_below_the_desired_count_and_spread_out(deployment):
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    spread = pod_spec(deployment)["topologySpreadConstraints"]
    keys = {c["topologyKey"] for c in spread}
    assert keys == {"kubernetes.io/hostname", "topology.kubernetes.io/zone"}
    assert {c["whenUnsatisfiable"] for c in spread} == {"ScheduleAnyway"}


@pytest.mark.parametrize(
    ("kube", "pre_stop"),
    [("1.29.0", {"exec": {"command": ["sleep", "10"]}}), ("1.30.0", {"sleep": {"seconds": 10}}),
     ("1.37.0", {"sleep": {"seconds": 10}})],
)  # fmt: skip
def test_prestop_pause_uses_the_native_sleep_where_the_cluster_has_it(kube, pre_stop):
    deployment = one(render(*SECRETS, "--kube-version", kube), "Deployment")
    assert app_container(deployment)["lifecycle"]["preStop"] == pre_stop


def test_grace_period_outlasts_the_pause_plus_gunicorns_graceful_timeout(defaults, deployment):
    grace = pod_spec(deployment)["terminationGracePeriodSeconds"]
    graceful = int(one(defaults, "ConfigMap")["data"]["GRACEFUL_TIMEOUT_S"])
    pause = app_container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert grace > pause + graceful


def test_behind_nginx_gunicorn_pauses_until_nginx_has_drained():
    # Both containers get their signal when their own pause ends: nginx first, so it finishes
    # its requests while gunicorn still accepts (a rollout through nginx gave 502s otherwise).
    rendered = render(*SECRETS, "--set", "nginx.enabled=true")
    deployment = one(rendered, "Deployment")
    containers = {c["name"]: c for c in pod_spec(deployment)["containers"]}
    nginx = containers["nginx"]["lifecycle"]["preStop"]["sleep"]["seconds"]
    app = app_container(deployment)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert app == nginx + 5  # nginx.drainSeconds
    graceful = int(one(rendered, "ConfigMap")["data"]["GRACEFUL_TIMEOUT_S"])
    assert pod_spec(deployment)["terminationGracePeriodSeconds"] > app + graceful


def test_settings_in_the_configmap_secrets_in_the_secret(defaults, deployment):
    config = one(defaults, "ConfigMap")["data"]
    secret = one(defaults, "Secret")["data"]
    assert set(secret) == {"DATABASE_URL", "JWT_SECRET"}
    assert not {"DATABASE_URL", "JWT_SECRET"} & set(config)
    assert base64.b64decode(secret["DATABASE_URL"]).startswith(b"postgresql+asyncpg://")
    sources = app_container(deployment)["envFrom"]
    assert {"configMapRef": {"name": RELEASE}} in sources
    assert {"secretRef": {"name": RELEASE}} in sources


def checksums(*args):
    template_meta = one(render(*SECRETS, *args), "Deployment")["spec"]["template"]["metadata"]
    annotations = template_meta["annotations"]
    return annotations["checksum/config"], annotations["checksum/secret"]


def test_changing_config_or_secret_rolls_the_pods():
    config, secret = checksums()
    assert checksums("--set", "config.logLevel=DEBUG")[0] != config
    assert checksums("--set", "secrets.jwtSecret=another-secret-of-at-least-32-chars")[1] != secret
    assert checksums() == (config, secret)


def test_an_existing_secret_is_used_and_none_is_created():
    docs = render("--set", "secrets.existingSecret=from-vault")
    assert "Secret" not in kinds(docs)
    sources = app_container(one(docs, "Deployment"))["envFrom"]
    assert {"secretRef": {"name": "from-vault"}} in sources
    job = one(docs, "Job", MIGRATE)
    assert pod_spec(job)["containers"][0]["envFrom"] == [{"secretRef": {"name": "from-vault"}}]


def test_migrations_run_before_install_and_upgrade_with_app_image_and_secret(defaults, deployment):
    job = one(defaults, "Job", MIGRATE)
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    container = pod_spec(job)["containers"][0]
    assert container["command"] == ["items-api", "migrate"]
    assert container["image"] == app_container(deployment)["image"]
    assert job["spec"]["backoffLimit"] <= 1

    # The release's own Secret and ConfigMap do not exist yet on install: the hook gets a
    # hook-scoped Secret created before it (lower weight) and its settings inline.
    hook_secret = one(defaults, "Secret", MIGRATE)
    secret_hook = hook_secret["metadata"]["annotations"]
    assert secret_hook["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert int(secret_hook["helm.sh/hook-weight"]) < int(annotations["helm.sh/hook-weight"])
    assert hook_secret["data"] == one(defaults, "Secret")["data"]
    assert container["envFrom"] == [{"secretRef": {"name": MIGRATE}}]
    inline = {e["name"]: e["value"] for e in container["env"]}
    config = one(defaults, "ConfigMap")["data"]
    # Its metric files go to its own /tmp: the in-memory /tmp/metrics exists in app pods only.
    assert inline.pop("PROMETHEUS_MULTIPROC_DIR") == "/tmp"
    assert config.pop("PROMETHEUS_MULTIPROC_DIR") == "/tmp/metrics"
    assert inline == config
    # ...and no ServiceAccount the install has not created yet.
    assert "serviceAccountName" not in pod_spec(job)


def test_connection_budget_is_computed_shown_and_enforced():
    docs = render(*env_values("production"))
    annotations = one(docs, "Deployment")["metadata"]["annotations"]
    # (HPA max 8 + surge 1) pods x 2 workers (CPU limit 2) x (pool 5 + overflow 0)
    assert annotations["items-api/max-workers-per-pod"] == "2"
    assert annotations["items-api/connection-budget"] == "90"

    result = template(*env_values("production"), "--set", "database.maxConnections=80")
    assert result.returncode != 0
    assert "connection budget 90 exceeds database.maxConnections 80" in result.stderr


def test_notes_print_the_connection_budget():
    notes = render_notes(*env_values("production"))
    assert "9 pods (autoscaling.maxReplicas 8 + rollout surge 1)" in notes
    assert "x 2 workers per pod" in notes
    assert "= 90 connections at most" in notes
    assert "database.maxConnections 200" in notes


def test_autoscaling_owns_the_replica_count():
    docs = render(*SECRETS, "--set", "autoscaling.enabled=true")
    assert "replicas" not in one(docs, "Deployment")["spec"]
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert {m["resource"]["name"] for m in hpa["spec"]["metrics"]} == {"cpu", "memory"}
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 300


def test_servicemonitor_only_where_the_prometheus_operator_is_installed():
    assert "ServiceMonitor" not in kinds(render(*SECRETS))
    docs = render(*SECRETS, "--api-versions", "monitoring.coreos.com/v1")
    monitor = one(docs, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["path"] == "/metrics"
    service_ports = {p["name"]: p for p in one(docs, "Service")["spec"]["ports"]}
    scraped = service_ports[monitor["spec"]["endpoints"][0]["port"]]
    # The Service's metrics port leads to gunicorn's metrics listener, whatever serves the API.
    assert scraped["targetPort"] == "metrics"
    config = one(docs, "ConfigMap")["data"]
    assert (config["PORT"], config["METRICS_PORT"]) == ("8000", "9000")


@pytest.mark.parametrize("nginx", ["false", "true"])
def test_monitoring_may_reach_the_metrics_port_only(nginx):
    docs = render(*env_values("production"), "--set", f"nginx.enabled={nginx}")
    policy = one(docs, "NetworkPolicy")
    (monitoring,) = [
        rule for rule in policy["spec"]["ingress"]
        if rule["from"] == [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": "monitoring"}}}]
    ]  # fmt: skip
    assert monitoring["ports"] == [{"port": 9000, "protocol": "TCP"}]


def test_production_is_replicated_autoscaled_protected_and_fenced():
    docs = render(*env_values("production"))
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["minReplicas"] >= 3
    assert one(docs, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1
    policy = one(docs, "NetworkPolicy")
    assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule.get("ports", [])}
    assert {53, 5432} <= egress_ports
    assert "StatefulSet" not in kinds(docs)


def test_bundled_postgresql_for_dev_migrates_from_the_pods():
    docs = render(*env_values("dev"))
    statefulset = one(docs, "StatefulSet", f"{RELEASE}-postgresql")
    assert statefulset["spec"]["replicas"] == 1
    volumes = {v["name"]: v for v in pod_spec(statefulset)["volumes"]}
    # The project's cluster has no volume provisioner: dev keeps its data in an emptyDir.
    assert "emptyDir" in volumes["data"]
    assert "volumeClaimTemplates" not in statefulset["spec"]
    assert "readinessProbe" in pod_spec(statefulset)["containers"][0]
    url = base64.b64decode(one(docs, "Secret")["data"]["DATABASE_URL"]).decode()
    assert url.startswith(f"postgresql+asyncpg://items:items-dev@{RELEASE}-postgresql:5432/")
    # No database exists before the first install, so the pods migrate (advisory-locked) and the
    # hook only runs on upgrades.
    init = pod_spec(one(docs, "Deployment"))["initContainers"]
    assert [c["command"] for c in init] == [["items-api", "migrate"]]
    assert one(docs, "Job", MIGRATE)["metadata"]["annotations"]["helm.sh/hook"] == "pre-upgrade"


def test_a_new_app_version_leaves_the_bundled_postgresql_pod_alone():
    def database_pod_template(tag: str) -> dict:
        docs = render(*env_values("dev"), "--set", f"image.tag={tag}")
        return one(docs, "StatefulSet", f"{RELEASE}-postgresql")["spec"]["template"]

    assert database_pod_template("1.0.0-aaaaaaa") == database_pod_template("1.0.1-bbbbbbb")


def test_bundled_postgresql_keeps_its_data_on_a_pvc_by_default():
    docs = render(*SECRETS, "--set", "config.environment=test", "--set", "postgresql.enabled=true",
                  "--set", "postgresql.auth.password=pw")  # fmt: skip
    statefulset = one(docs, "StatefulSet", f"{RELEASE}-postgresql")
    claim = statefulset["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "1Gi"


def test_optional_parts_are_off_by_default(defaults):
    assert kinds(defaults).isdisjoint({"Ingress", "HorizontalPodAutoscaler", "NetworkPolicy",
                                       "StatefulSet", "ServiceMonitor"})  # fmt: skip


def test_helm_test_pod_checks_readiness_and_an_api_read_through_the_service(defaults):
    pod = one(defaults, "Pod", f"{RELEASE}-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    assert f"http://{RELEASE}:80" in script
    assert "/readyz" in script
    assert "/api/v1/items" in script


def test_every_policy_exception_carries_its_reason():
    for obj in render(*env_values("dev")) + render(*env_values("production")):
        annotations = obj["metadata"].get("annotations") or {}
        for key, value in annotations.items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert check.startswith("CKV"), value
                assert len(reason) > 20, value
        for check in filter(None, annotations.get("kube-score/ignore", "").split(",")):
            assert len(annotations.get(f"items-api.policy/{check}", "")) > 20, check


def test_make_template_prints_an_environments_manifests():
    result = subprocess.run(
        ["make", "-s", "template", "ENV=staging", "IMAGE_TAG=1.2.3-abcdef"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    deployment = one(docs, "Deployment")
    assert deployment["metadata"]["namespace"] == "items-api-staging"
    assert app_container(deployment)["image"] == "localhost/items-api:1.2.3-abcdef"


def test_make_template_names_the_environments_when_env_is_wrong():
    result = subprocess.run(
        ["make", "-s", "template", "ENV=prod"],
        cwd=REPO, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "set ENV to one of: dev e2e production staging" in result.stderr


PURGE = f"{RELEASE}-purge"


def test_expired_idempotency_keys_are_purged_by_a_cronjob(defaults):
    cronjob = one(defaults, "CronJob", PURGE)
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    assert cronjob["spec"]["schedule"] == "17 * * * *"
    spec = pod_spec(cronjob)
    (container,) = spec["containers"]
    assert container["command"] == ["items-api", "purge-idempotency-keys"]
    assert container["envFrom"] == [
        {"configMapRef": {"name": RELEASE}},
        {"secretRef": {"name": RELEASE}},
    ]
    # Its pods get the migration Job's network rules (DNS and the database), not the API's.
    labels = cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "migrations"
    assert one(defaults, "ConfigMap")["data"]["IDEMPOTENCY_RETENTION_S"] == "86400"


def test_the_purge_uses_an_existing_secret_keeps_its_name_short_and_can_be_off():
    docs = render("--set", "secrets.existingSecret=mine", "--set", f"fullnameOverride={'x' * 63}")
    cronjob = next(d for d in docs if d["kind"] == "CronJob")
    assert len(cronjob["metadata"]["name"]) <= 52  # the API server's limit for a CronJob
    assert {"secretRef": {"name": "mine"}} in pod_spec(cronjob)["containers"][0]["envFrom"]
    assert "CronJob" not in kinds(render(*SECRETS, "--set", "idempotencyPurge.enabled=false"))


def test_idempotency_purge_values_are_validated():
    assert "schedule" in render_error(*SECRETS, "--set", "idempotencyPurge.schedule=hourly")
    assert "idempotencyRetentionSeconds" in render_error(
        *SECRETS, "--set", "config.idempotencyRetentionSeconds=0"
    )


def trusted_hosts(docs) -> list[str]:
    return one(docs, "ConfigMap")["data"]["TRUSTED_HOSTS"].split(",")


IN_CLUSTER = [
    RELEASE,
    f"{RELEASE}.{NAMESPACE}",
    f"{RELEASE}.{NAMESPACE}.svc",
    f"{RELEASE}.{NAMESPACE}.svc.cluster.local",
    "localhost",
    "127.0.0.1",
    "::1",
]


def test_trusted_hosts_are_the_in_cluster_names_by_default(defaults):
    assert trusted_hosts(defaults) == IN_CLUSTER


def test_trusted_hosts_add_the_ingress_hosts_and_the_operators_own():
    docs = render(
        *SECRETS,
        "--set", "ingress.enabled=true",
        "--set", "ingress.hosts[0].host=api.example.com",
        "--set", "ingress.hosts[0].paths[0].path=/",
        "--set", "ingress.hosts[0].paths[0].pathType=Prefix",
        "--set", "ingress.tls[0].secretName=tls",
        "--set", "ingress.tls[0].hosts[0]=*.example.org",
        "--set", "config.trustedHosts[0]=legacy.example.net",
    )  # fmt: skip
    assert trusted_hosts(docs) == [
        "legacy.example.net",
        *IN_CLUSTER,
        "api.example.com",
        "*.example.org",
    ]


@pytest.mark.parametrize("host", ["*", "https://api.example.com", "api.example.com:443"])
def test_trusted_hosts_refuse_what_would_trust_any_host_or_is_no_host(host):
    assert "trustedHosts" in render_error(*SECRETS, "--set", f"config.trustedHosts[0]={host}")


HTTPS_LISTENER = "httpRoute.parentRefs[0].name=edge,httpRoute.parentRefs[0].sectionName=https"
HTTP_LISTENER = (
    "httpRoute.httpsRedirect.parentRefs[0].name=edge,"
    "httpRoute.httpsRedirect.parentRefs[0].sectionName=http"
)


@pytest.mark.parametrize("env", ["defaults", "staging", "production"])
def test_the_edge_routes_only_the_api(env):
    args = (*SECRETS, "--set", "ingress.enabled=true") if env == "defaults" else env_values(env)
    ingress = one(render(*args), "Ingress")
    paths = [p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert paths == ["/api"]
    for rule in ingress["spec"]["rules"]:
        assert {p["backend"]["service"]["port"]["name"] for p in rule["http"]["paths"]} == {"http"}


def test_production_ingress_terminates_tls_with_the_secret_it_names():
    ingress = one(render(*env_values("production")), "Ingress")
    (tls,) = ingress["spec"]["tls"]
    assert tls["secretName"] == "items-api-tls"  # pragma: allowlist secret (a Secret's name)
    assert tls["hosts"] == [rule["host"] for rule in ingress["spec"]["rules"]]


def test_httproute_sends_the_api_to_the_service_and_redirects_plain_http():
    docs = render(*SECRETS, *GATEWAY_API, "--set", "httpRoute.enabled=true",
                  "--set", HTTPS_LISTENER, "--set", HTTP_LISTENER,
                  "--set", "httpRoute.hostnames[0]=items-api.example.com")  # fmt: skip
    route = one(docs, "HTTPRoute")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "edge", "sectionName": "https"}]
    assert route["spec"]["hostnames"] == ["items-api.example.com"]
    assert trusted_hosts(docs) == [*IN_CLUSTER, "items-api.example.com"]
    (rule,) = route["spec"]["rules"]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/api"}}]
    service = one(docs, "Service")
    http_port = {p["name"]: p["port"] for p in service["spec"]["ports"]}["http"]
    assert rule["backendRefs"] == [{"name": service["metadata"]["name"], "port": http_port}]

    redirect = one(docs, "HTTPRoute", f"{RELEASE}-https-redirect")
    assert redirect["spec"]["parentRefs"] == [{"name": "edge", "sectionName": "http"}]
    (rule,) = redirect["spec"]["rules"]
    redirect_to_https = {"scheme": "https", "statusCode": 301}
    assert rule == {"filters": [{"type": "RequestRedirect", "requestRedirect": redirect_to_https}]}
    assert "backendRefs" not in rule


def test_httproute_without_the_gateway_api_fails_naming_it():
    error = render_error(*SECRETS, "--set", "httpRoute.enabled=true", "--set", HTTPS_LISTENER,
                         "--set", HTTP_LISTENER)  # fmt: skip
    assert "httpRoute.enabled" in error
    assert "Gateway API" in error


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--set", "httpRoute.enabled=true"), "parentRefs"),
        (("--set", "httpRoute.enabled=true", "--set", HTTPS_LISTENER), "parentRefs"),
        (("--set", "httpRoute.enabled=true", "--set", HTTPS_LISTENER,
          "--set", "httpRoute.paths[0].type=Regex,httpRoute.paths[0].value=/x"), "type"),
    ],
    ids=["no-listener", "no-plain-http-listener-for-the-redirect", "path-type"],
)  # fmt: skip
def test_httproute_values_are_checked_by_the_schema(args, named):
    error = render_error(*SECRETS, *GATEWAY_API, *args)
    assert "httpRoute" in error
    assert named in error
