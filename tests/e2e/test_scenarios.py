"""The operator's commands against real pods on the project's cluster, in order: each
scenario starts from the state the previous one left (one release, `make deploy ENV=e2e`).
Figures go to the report (.local/reports/e2e.*)."""

import json
import secrets
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import yaml

from .cluster import (
    CHART_REF,
    CHART_VERSION,
    IMAGE_REF,
    NAMESPACE,
    NEXT_IMAGE_REF,
    PULL_SECRET,
    RELEASE,
    ROOT,
    SERVICE_HOST,
    UNSIGNED_IMAGE_REF,
    app_pods,
    create_pull_secret,
    helm,
    is_ready,
    kubectl,
    kubectl_json,
    make,
    pod_events,
    service_url,
    settled,
    wait_for,
)
from .load import Load

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPLICAS = 2


@pytest.fixture(scope="module")
def overlays(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("values")


def overlay(directory: Path, name: str, values: dict) -> str:
    """An extra values file for `make deploy VALUES=...`, as an operator would keep one."""
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump(values))
    return str(path)


def summary_lines(output: str) -> list[str]:
    """The deploy tool's own summary (or failure) lines, for the report."""
    keep = ("deployed", "rolled back", "revision", "pods", "readyz", "took", "deployctl:")
    return [line.strip() for line in output.splitlines() if line.strip().startswith(keep)]


def new_pod_template(directory: Path, n: int) -> str:
    """A values overlay that changes only the app pods' template, so `make deploy` rolls them.
    (A new image tag would do too, but it also restarts the bundled PostgreSQL: see
    test_an_app_version_change_leaves_the_database_pod_alone.)"""
    return overlay(directory, f"rollout-{n}", {"podAnnotations": {"e2e/rollout": str(n)}})


def deploy_under_load(values: list[str], timeout: int = 300) -> tuple:
    """`make deploy` while steady load runs through the Service, kept running until the old
    pods are gone (a rollout is over for clients only when nothing terminates any more)."""
    with Load(service_url()) as load:
        time.sleep(3)
        run = make("deploy", VALUES=" ".join(values), DEPLOY_TIMEOUT=str(timeout))
        wait_for("the old pods to be gone", lambda: settled(REPLICAS), timeout=120)
        time.sleep(2)
    return run, load


def settings_then_rollout_under_load(overlays: Path, values: str, n: int) -> tuple:
    """A `make deploy` that puts `values` on the pods, then the measured rollout, which
    replaces pods that already carry them."""
    first = make("deploy", VALUES=values)
    assert first.returncode == 0, first.output
    wait_for("the old pods to be gone", lambda: settled(REPLICAS), timeout=120)
    run, load = deploy_under_load([values, new_pod_template(overlays, n)])
    assert run.returncode == 0, run.output
    return run, load


def test_deploy_installs_from_the_registry_by_digest_migrates_and_passes_helm_test(
    report, prometheus
):
    started = time.time()
    # The operator's one step before a first deploy from a private registry.
    kubectl("create", "namespace", NAMESPACE)
    create_pull_secret()
    run = make("deploy")
    assert run.returncode == 0, run.output
    assert f"chart      {CHART_REF} {CHART_VERSION}" in run.output
    assert "signature  verified" in run.output
    assert f"pods     {REPLICAS}/{REPLICAS} ready" in run.output
    assert "readyz   200" in run.output
    # What runs is what was pushed and signed: the pod spec names the digest, and the
    # kubelet reports pulling exactly that content.
    digest = IMAGE_REF.split("@")[1]
    running = {
        (container["image"], status["imageID"].rsplit("@", 1)[-1])
        for pod in app_pods()
        for container, status in zip(
            pod["spec"]["containers"], pod["status"]["containerStatuses"], strict=True
        )
    }
    assert running == {(IMAGE_REF, digest)}, running
    # With the bundled PostgreSQL a first install migrates in each pod's init container.
    migrations = [
        status["state"]["terminated"]
        for pod in app_pods()
        for status in pod["status"]["initContainerStatuses"]
    ]
    assert [m["exitCode"] for m in migrations] == [0] * REPLICAS
    postgres = kubectl_json("-n", NAMESPACE, "get", "pod", f"{RELEASE}-postgresql-0")
    assert is_ready(postgres), postgres["status"]
    chart = json.loads(helm("list", "--filter", f"^{RELEASE}$", "-o", "json").stdout)[0]["chart"]
    assert chart == f"{RELEASE}-{CHART_VERSION}"
    test_started = time.monotonic()
    helm_test = helm("test", RELEASE, "--timeout", "120s")
    assert helm_test.returncode == 0, helm_test.stdout + helm_test.stderr
    assert "Phase:          Succeeded" in helm_test.stdout
    version = httpx.get(f"{service_url()}/version", headers=SERVICE_HOST, timeout=5).json()
    report.record(
        "1 deploy (install) from the registry, by digest",
        started,
        command=run.command,
        image_pushed_and_signed=IMAGE_REF,
        image_running=sorted(f"{image} (imageID {pulled})" for image, pulled in running),
        chart=f"{CHART_REF} {CHART_VERSION} (helm list: {chart})",
        pull_secret=f"{PULL_SECRET} (kubernetes.io/dockerconfigjson)",
        deploy_seconds=round(run.seconds, 1),
        summary=summary_lines(run.output),
        postgres_image=postgres["spec"]["containers"][0]["image"],
        helm_test_seconds=round(time.monotonic() - test_started, 1),
        version=version,
    )


def postgres_exec(sql: str) -> str:
    return kubectl(
        "-n", NAMESPACE, "exec", f"{RELEASE}-postgresql-0", "--",
        "psql", "-U", "items", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-Atc", sql,
    )  # fmt: skip


def test_database_outage_fires_the_availability_alert(report, prometheus, alert_timeline):
    # Early in the run on purpose: the 1h burn-rate window then holds little other traffic.
    started = time.time()
    wait_for(
        "Prometheus to scrape both pods",
        lambda: len(prometheus.query('up{job="items-api", ready="true"} == 1')) == REPLICAS,
        timeout=90,
    )
    with Load(service_url(), workers=2, pause=0.1) as load:
        time.sleep(20)
        outage = time.time()
        # The database refuses new connections and drops the open ones: what the pools see
        # when a managed database fails over or is unreachable.
        postgres_exec("ALTER DATABASE items ALLOW_CONNECTIONS false")
        postgres_exec("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE datname = 'items'")  # fmt: skip
        try:
            wait_for("the alert to fire", lambda: alert_timeline.first("firing", outage),
                     timeout=180, every=2)  # fmt: skip
        finally:
            recovery = time.time()
            postgres_exec("ALTER DATABASE items ALLOW_CONNECTIONS true")
        wait_for("the pods to be ready again", lambda: settled(REPLICAS), timeout=90)
        back = time.time()
        time.sleep(5)
    assert alert_timeline.first("pending", outage) is not None, alert_timeline.changes
    assert prometheus.rules_with_errors() == []
    failed_requests = [o for o in load.failures if o.at < recovery]
    assert failed_requests, "the outage should have been visible to clients"
    report.record(
        "7 database outage: availability alert",
        started,
        alert="ItemsApiAvailabilityBudgetBurn (long 1h, short 5m, for: 10s from e2e values)",
        outage_at_s=0,
        pending_after_s=round(alert_timeline.first("pending", outage) - outage, 1),
        firing_after_s=round(alert_timeline.first("firing", outage) - outage, 1),
        database_back_after_s=round(recovery - outage, 1),
        pods_ready_after_s=round(back - outage, 1),
        load=load.summary(),
        note="resolution is measured by a later test (the 5m window must drain)",
    )
    report.outage = outage


def test_rollout_under_load_loses_no_request(report, overlays):
    started = time.time()
    run, load = deploy_under_load([new_pod_template(overlays, 1)])
    assert run.returncode == 0, run.output
    hook = [
        e for e in kubectl_json("-n", NAMESPACE, "get", "events")["items"]
        if e["involvedObject"]["kind"] == "Job" and e["reason"] == "Completed"
    ]  # fmt: skip
    report.record(
        "2 zero-downtime rollout (preStop 10 s)",
        started,
        command=run.command,
        deploy_seconds=round(run.seconds, 1),
        migration_hook_job=[e["involvedObject"]["name"] + ": " + e["message"] for e in hook],
        load=load.summary(),
    )
    assert hook, "the pre-upgrade migration Job should have run"
    assert load.total > 100
    assert load.failures == [], load.summary()


def test_rollout_through_the_nginx_front_loses_no_request(report, overlays):
    """The same rollout with the nginx sidecar in front of gunicorn (nginx.enabled: the
    Service then targets nginx), as production runs it: both containers of a leaving pod
    keep accepting through the same preStop delay, then drain."""
    started = time.time()
    # All of this test's load comes from one client address: the per-client rate limit is
    # raised so that nginx does not answer it with 429s.
    front = overlay(overlays, "nginx-front", {
        "nginx": {"enabled": True, "rateLimit": {"rate": "1000r/s", "burst": 1000}},
    })  # fmt: skip
    run, load = settings_then_rollout_under_load(overlays, front, 3)
    containers = [c["name"] for c in app_pods()[0]["spec"]["containers"]]
    report.record(
        "2a zero-downtime rollout through the nginx sidecar (preStop 10 s)",
        started,
        command=run.command,
        pod_containers=containers,
        load=load.summary(),
    )
    assert "nginx" in containers
    assert load.total > 100
    assert load.failures == [], load.summary()


def test_rollout_without_prestop_delay_is_measured(report, overlays):
    """The same measurement with lifecycle.preStopSleepSeconds=0: SIGTERM reaches gunicorn
    while kube-proxy may still send new connections to the pod. The first deploy only puts
    the setting on the pods; the second rollout replaces pods that have it."""
    started = time.time()
    no_prestop = overlay(overlays, "no-prestop", {"lifecycle": {"preStopSleepSeconds": 0}})
    run, load = settings_then_rollout_under_load(overlays, no_prestop, 2)
    report.record(
        "2b rollout without preStop delay",
        started,
        command=run.command,
        load=load.summary(),
        note="failed requests here and none with the delay show what the preStop sleep buys",
    )


def test_bad_rollout_is_rolled_back_while_the_old_version_serves(report, overlays):
    started = time.time()
    # A release whose pods never pass readiness (e.g. a broken health route); liveness holds.
    never_ready = overlay(
        overlays,
        "never-ready",
        {"customReadinessProbe": {
            "httpGet": {"path": "/readyz-missing", "port": "http"},
            "periodSeconds": 2, "failureThreshold": 1,
        }},
    )  # fmt: skip
    before = helm("history", RELEASE, "-o", "yaml")
    timeout = 60
    run, load = deploy_under_load([never_ready], timeout=timeout)
    after = yaml.safe_load(helm("history", RELEASE, "-o", "yaml").stdout)
    # make reports the deploy tool's exit code 6 (helm failed, rolled back) as its own 2.
    assert "deploy] Error 6" in run.output, run.output
    assert "rolled back to its previous revision" in run.output
    assert "events:" in run.output
    assert "Readiness probe failed" in run.output
    assert after[-1]["status"] == "deployed"
    assert after[-1]["description"].startswith("Rollback to")
    probes = {p["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"] for p in app_pods()}
    assert probes == {"/readyz"}
    report.record(
        "3 bad rollout rolled back",
        started,
        command=run.command,
        deploy_seconds=round(run.seconds, 1),
        rollback_seconds_after_timeout=round(run.seconds - timeout, 1),
        revisions=f"{len(yaml.safe_load(before.stdout))} -> {len(after)}",
        printed=[line for line in run.output.splitlines() if "Readiness probe failed" in line][:2],
        load=load.summary(),
    )
    assert load.failures == [], load.summary()


def test_deploy_refuses_images_the_release_path_did_not_vouch_for(report, overlays):
    """Refused before the cluster is touched: a digest nobody signed, and a signed one checked
    against a key this environment does not trust. The release keeps its revision."""
    started = time.time()
    revisions = len(yaml.safe_load(helm("history", RELEASE, "-o", "yaml").stdout))
    other_signer = overlays / "other-signer"
    subprocess.run([ROOT / "container/release/signing-key", other_signer], check=True,
                   capture_output=True, timeout=60)  # fmt: skip
    unsigned = make("deploy", IMAGE_REF=UNSIGNED_IMAGE_REF)
    wrong_key = make("deploy", COSIGN_PUBLIC_KEY=str(other_signer / "cosign.pub"))
    refusals = {
        "unsigned digest": (unsigned, f"refusing {UNSIGNED_IMAGE_REF}: it carries no signature"),
        "signed by another key": (
            wrong_key,
            f"refusing {IMAGE_REF}: its signature was not made by the trusted signer",
        ),
    }
    report.record(
        "3b images the release path did not sign are refused",
        started,
        refused={
            what: [line for line in run.output.splitlines() if line.startswith("deployctl:")]
            for what, (run, _) in refusals.items()
        },
    )
    for run, message in refusals.values():
        # make reports the deploy tool's exit code 9 (untrusted image) as its own 2.
        assert "deploy] Error 9" in run.output, run.output
        assert message in run.output, run.output
        # Nothing went to the cluster: no namespace check, no helm.
        assert "namespace  " not in run.output
    assert len(yaml.safe_load(helm("history", RELEASE, "-o", "yaml").stdout)) == revisions


def test_missing_registry_credentials_are_reported_and_rolled_back(report, overlays):
    """Pods that may not pull: the deploy tool shows the kubelet's event and helm rolls the
    release back while the old pods keep serving. (Pull Always: the node holds the digest
    already, and IfNotPresent would start it without asking the registry.)"""
    started = time.time()
    no_credentials = overlay(
        overlays, "no-pull-secret", {"image": {"pullSecrets": [], "pullPolicy": "Always"}}
    )
    timeout = 60
    run, load = deploy_under_load([no_credentials], timeout=timeout)
    after = yaml.safe_load(helm("history", RELEASE, "-o", "yaml").stdout)
    assert "deploy] Error 6" in run.output, run.output
    assert "rolled back to its previous revision" in run.output
    pulls = [line.strip() for line in run.output.splitlines() if "Failed to pull image" in line]
    assert pulls, run.output
    assert any(reason in run.output for reason in ("ErrImagePull", "ImagePullBackOff"))
    assert after[-1]["description"].startswith("Rollback to")
    assert {p["spec"]["imagePullSecrets"][0]["name"] for p in app_pods()} == {PULL_SECRET}
    report.record(
        "3c registry credentials missing: reported and rolled back",
        started,
        command=run.command,
        deploy_seconds=round(run.seconds, 1),
        printed=pulls[:2],
        load=load.summary(),
    )
    assert load.failures == [], load.summary()


def ctr(*args: str) -> str:
    """containerd's own CLI on the node's socket: host PIDs of a pod's processes."""
    socket = ROOT / ".local/cluster/containerd/containerd.sock"
    argv = ["ctr", "--address", str(socket), "-n", "k8s.io", *args]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def container_id(pod: dict) -> str:
    return pod["status"]["containerStatuses"][0]["containerID"].split("//")[1]


def kill_main_process(pod: dict) -> None:
    tasks = ctr("task", "ls").splitlines()
    pid = next(line.split()[1] for line in tasks if line.startswith(container_id(pod)))
    subprocess.run(["kill", "-KILL", pid], check=True)


def freeze_until_liveness_fails(pod: dict) -> None:
    """Stops every process of the container (a hung service: /livez no longer answers) and
    lets them run again once the kubelet has decided to restart it, so its SIGTERM is seen."""
    pids = [line.split()[0] for line in ctr("task", "ps", container_id(pod)).splitlines()[1:]]
    subprocess.run(["kill", "-STOP", *pids], check=True)
    name = pod["metadata"]["name"]
    try:
        wait_for(
            "the liveness probe to fail",
            lambda: any("failed liveness probe" in e for e in pod_events(name)),
            timeout=90,
            every=2,
        )
    finally:
        subprocess.run(["kill", "-CONT", *pids], check=False)


@pytest.mark.lab
@pytest.mark.parametrize(
    ("how", "disrupt"),
    [("SIGKILL of gunicorn's master", kill_main_process),
     ("liveness failure (processes stopped)", freeze_until_liveness_fails)],
    ids=["kill", "liveness"],
)  # fmt: skip
def test_kubelet_restarts_the_container_and_the_service_keeps_answering(report, how, disrupt):
    started = time.time()
    victim = app_pods()[0]
    name = victim["metadata"]["name"]
    restarts = victim["status"]["containerStatuses"][0]["restartCount"]

    def restarted() -> dict | None:
        pod = kubectl_json("-n", NAMESPACE, "get", "pod", name)
        status = pod["status"]["containerStatuses"][0]
        return status["restartCount"] > restarts and is_ready(pod) and status

    # A hung pod holds each keep-alive connection the Service gave it until the client's
    # timeout: with Load's three, all can be pinned to it at once, and a
    # second passes with no answer although the other replica answers all it is sent.
    with Load(service_url(), workers=8) as load:
        time.sleep(3)
        disrupted = time.time()
        disrupt(victim)
        status = wait_for("the kubelet to restart the container", restarted, timeout=150)
        ready_again = time.time()
        time.sleep(3)
    # The kubelet may report a restarted container with an empty lastState
    # (kubernetes/kubernetes#101044); the restart count is what proves the restart.
    last = status["lastState"].get("terminated")
    per_second = {}
    for o in load.outcomes:
        per_second.setdefault(int(o.at), []).append(o.ok)
    silent_seconds = [s for s, oks in per_second.items() if not any(oks)]
    report.record(
        f"4 self-healing: {how}",
        started,
        pod=name,
        last_state=f"exit {last['exitCode']} ({last['reason']})" if last else "not reported",
        ready_again_after_s=round(ready_again - disrupted, 1),
        seconds_without_any_answer=len(silent_seconds),
        load=load.summary(),
    )
    assert silent_seconds == [], "the other replica should have kept answering"


def oom_pod(name: str, env: dict[str, str], memory: str) -> dict:
    """A pod of the release's image and settings, outside its Service, with given workers."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        # The labels of the chart's migration pods: the database's NetworkPolicy admits
        # them, and no Service sends them traffic.
        "metadata": {
            "name": name,
            "namespace": NAMESPACE,
            "labels": {
                "e2e": "resources",
                "app.kubernetes.io/name": RELEASE,
                "app.kubernetes.io/instance": RELEASE,
                "app.kubernetes.io/component": "migrations",
            },
        },
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 5,
            "automountServiceAccountToken": False,
            "imagePullSecrets": [{"name": PULL_SECRET}],
            "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, "runAsGroup": 10001},
            "containers": [
                {
                    "name": "api",
                    "image": IMAGE_REF,
                    "envFrom": [
                        {"configMapRef": {"name": RELEASE}},
                        {"secretRef": {"name": RELEASE}},
                    ],
                    "env": [{"name": k, "value": v} for k, v in env.items()],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        # Two CPUs, like the node: the seeds' formula gives 2 x 2 + 1 workers.
                        "limits": {"cpu": "2", "memory": memory},
                    },
                    "securityContext": {
                        "readOnlyRootFilesystem": True,
                        "allowPrivilegeEscalation": False,
                    },
                    # Ends a pod whose workers keep dying, so its final status can be read.
                    "livenessProbe": {
                        "httpGet": {"path": "/livez", "port": 8000},
                        "initialDelaySeconds": 30,
                        "periodSeconds": 2,
                        "timeoutSeconds": 1,
                        "failureThreshold": 2,
                    },
                    "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                }
            ],
            "volumes": [{"name": "tmp", "emptyDir": {}}],
        },
    }


@pytest.mark.lab
def test_seeds_worker_count_is_refused_where_the_formula_serves(report):
    started = time.time()
    # The formula's one worker needs ~80 MiB. Five workers peak at about this limit and above
    # (they share the preloaded master's pages), so the kernel reclaims page cache rather than
    # kill one for certain; what must hold is that the service does not start what does not fit.
    memory = "120Mi"
    # Even at its minimum WORKER_MEMORY_MB (16), 5 workers do not fit 120 MiB beside the master.
    seeds = oom_pod("e2e-workers-seeds", {"WEB_CONCURRENCY": "5", "WORKER_MEMORY_MB": "16"}, memory)
    formula = oom_pod("e2e-workers-formula", {}, memory)
    kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all([seeds, formula]))
    try:
        formula_pod = wait_for(
            "the formula's pod to answer",
            lambda: (p := kubectl_json("-n", NAMESPACE, "get", "pod", "e2e-workers-formula"))
            .get("status", {}).get("podIP") and _answers(p["status"]["podIP"]) and p,
            timeout=90, every=2,
        )  # fmt: skip
        seeds_state = wait_for(
            "the seeds' pod to end",
            lambda: kubectl_json("-n", NAMESPACE, "get", "pod", "e2e-workers-seeds")["status"]
            .get("containerStatuses", [{}])[0].get("state", {}).get("terminated"),
            timeout=150, every=2,
        )  # fmt: skip
        refusal = [
            line for line in kubectl("-n", NAMESPACE, "logs", "e2e-workers-seeds").splitlines()
            if "refusing to start" in line
        ]  # fmt: skip
        workers = kubectl(
            "-n", NAMESPACE, "exec", "e2e-workers-formula", "--", "items-api", "workers"
        ).strip()
        formula_restarts = formula_pod["status"]["containerStatuses"][0]["restartCount"]
        report.record(
            f"5 resource limits (memory {memory}, cpu 2)",
            started,
            seeds_2x_cores_plus_1=f"reason {seeds_state['reason']}, exit {seeds_state['exitCode']}"
            f": {refusal[0] if refusal else 'no refusal logged'}",
            formula=f"serves: GET /api/v1/items 200 on the pod; items-api workers: {workers}",
        )
        assert seeds_state["exitCode"] != 0, seeds_state
        assert any("WEB_CONCURRENCY=5 does not fit the memory limit" in line for line in refusal)
        assert formula_restarts == 0
    finally:
        kubectl("-n", NAMESPACE, "delete", "pod", "-l", "e2e=resources", "--wait=false")


def _answers(ip: str) -> bool:
    try:
        response = httpx.get(
            f"http://{ip}:8000/api/v1/items?limit=1", headers=SERVICE_HOST, timeout=3
        )
        return response.status_code == 200
    except httpx.HTTPError:
        return False


def metrics_api_available() -> bool:
    result = kubectl("get", "apiservice", "v1beta1.metrics.k8s.io", "-o",
                     "jsonpath={.status.conditions[0].status}", check=False)  # fmt: skip
    return result.strip() == "True"


def test_hpa_scales_out_under_load_and_back_in(report, overlays):
    if not metrics_api_available():
        pytest.skip("metrics.k8s.io is not served (metrics-server not running in the cluster)")
    started = time.time()
    autoscaling = overlay(overlays, "hpa", {"autoscaling": {
        "enabled": True, "minReplicas": 2, "maxReplicas": 3,
        "targetCPUUtilizationPercentage": 20, "scaleDownStabilizationSeconds": 15,
    }})  # fmt: skip
    run = make("deploy", VALUES=autoscaling)
    assert run.returncode == 0, run.output
    timeline: list[tuple[float, int]] = []

    def replicas() -> int:
        count = kubectl_json("-n", NAMESPACE, "get", "hpa", RELEASE)["status"].get(
            "currentReplicas", 0
        )
        # 0 until the HPA has read its first metrics.
        if count and (not timeline or timeline[-1][1] != count):
            timeline.append((time.time(), count))
        return count

    try:
        busy = Load(service_url(), workers=6, pause=0, paths=("/api/v1/items?limit=20",))
        with busy as load:
            loaded = time.time()
            wait_for("the HPA to add a pod", lambda: replicas() > 2, timeout=240, every=3)
        unloaded = time.time()
        wait_for("the HPA to remove it", lambda: replicas() == 2, timeout=240, every=3)
        report.record(
            "6 HPA (cpu target 20% of requests, 2..3 pods)",
            started,
            timeline=[f"+{t - loaded:.0f}s: {n} pods" for t, n in timeline],
            load_stopped_at_s=round(unloaded - loaded),
            load=load.summary(),
        )
    finally:
        # Later scenarios expect the e2e values again (fixed replica count, preStop delay).
        run = make("deploy")
        assert run.returncode == 0, run.output
        wait_for("the rollout to settle", lambda: settled(REPLICAS), timeout=120)


def test_distributed_locust_counts_requests_per_pod(report):
    """`make loadtest-k8s`: a Locust master and a worker as pods in the release's namespace,
    the scenario against its Service, the summary counting what each app pod served."""
    started = time.time()
    password = secrets.token_urlsafe(18)
    pod = app_pods()[0]["metadata"]["name"]
    # The password goes on stdin: in neither kubectl's arguments nor the pod's process list.
    kubectl(
        "-n", NAMESPACE, "exec", "-i", pod, "-c", "items-api", "--", "sh", "-c",
        "read -r ADMIN_PASSWORD && export ADMIN_PASSWORD && exec items-api create-admin"
        " --email admin@example.com",
        stdin=f"{password}\n",
    )  # fmt: skip
    selector = {"app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/component": "api"}
    # One worker: the single node's CPU requests leave room for two Locust pods, not three.
    try:
        run = make(
            "loadtest-k8s",
            LOADTEST_NAMESPACE=NAMESPACE,
            LOADTEST_WORKERS="1",
            LOADTEST_POD_SELECTOR=json.dumps(selector),
            USERS="10",
            SPAWN_RATE="5",
            DURATION="30s",
            secrets={"ADMIN_PASSWORD": password},
        )
    finally:
        # The load test's release is not the app's: later scenarios count what the app has.
        helm("uninstall", "items-api-loadtest", "--wait")
        kubectl("-n", NAMESPACE, "delete", "secret", "items-api-loadtest-admin",
                "--ignore-not-found")  # fmt: skip
    per_pod = [line for line in run.output.splitlines() if line.startswith("pod ")]
    report.record(
        "6b distributed Locust (make loadtest-k8s)",
        started,
        command=run.command,
        exit_code=run.returncode,
        requests_per_pod=per_pod,
        summary=[line for line in run.output.splitlines() if line.strip()][-25:],
    )
    # Exit 3 is the SLO verdict (a busy shared node may break the latency SLO); anything
    # else means the distributed run itself failed.
    assert run.returncode in (0, 3), run.output
    assert len(per_pod) == REPLICAS, run.output
    # The pods' own counters hold at least every request Locust got an answer to.
    requests, failures = run.output.split("\nAggregated ", 1)[1].split()[:2]
    served = sum(float(line.split()[2]) for line in per_pod)
    assert served >= int(requests) - int(failures), run.output


def config_checksum() -> str:
    deployment = kubectl_json("-n", NAMESPACE, "get", "deployment", RELEASE)
    return deployment["spec"]["template"]["metadata"]["annotations"]["checksum/config"]


def test_config_change_rolls_the_pods_and_rollback_restores_them(report, overlays):
    started = time.time()
    before = {p["metadata"]["name"] for p in app_pods()}
    checksum = config_checksum()
    debug_logs = overlay(overlays, "log-level", {"config": {"logLevel": "DEBUG"}})
    run = make("deploy", VALUES=debug_logs)
    assert run.returncode == 0, run.output
    wait_for("the old pods to be gone", lambda: settled(REPLICAS), timeout=120)
    changed = config_checksum()
    rolled = {p["metadata"]["name"] for p in app_pods()}
    rollback = make("rollback")
    assert rollback.returncode == 0, rollback.output
    config = kubectl_json("-n", NAMESPACE, "get", "configmap", RELEASE)["data"]
    report.record(
        "8 config change and make rollback",
        started,
        checksum=f"{checksum[:12]} -> {changed[:12]}",
        pods_replaced=not (before & rolled),
        rollback_seconds=round(rollback.seconds, 1),
        rollback_summary=summary_lines(rollback.output),
    )
    assert checksum
    assert changed != checksum
    assert not (before & rolled)
    assert config["LOG_LEVEL"] == "INFO"


def test_availability_alert_resolves_after_recovery(report, prometheus, alert_timeline):
    outage = getattr(report, "outage", None)
    if outage is None:
        pytest.skip("the outage scenario did not run")
    started = time.time()
    with Load(service_url(), workers=2, pause=0.05) as load:
        wait_for(
            "the alert to resolve",
            lambda: alert_timeline.state() == "inactive" and time.time(),
            timeout=420,
            every=5,
        )
    resolved = alert_timeline.first("inactive", outage + 1) or time.time()
    report.record(
        "7b availability alert resolved",
        started,
        timeline=[f"+{t - outage:.0f}s {state}" for t, state in alert_timeline.changes],
        resolved_after_outage_s=round(resolved - outage),
        load=load.summary(),
    )


def test_an_app_version_change_leaves_the_database_pod_alone(report):
    """The bundled PostgreSQL keeps its data in an emptyDir here (no volume provisioner): a
    deploy of a new app version must not replace its pod."""
    started = time.time()
    database = kubectl_json("-n", NAMESPACE, "get", "pod", f"{RELEASE}-postgresql-0")
    run = make("deploy", IMAGE_REF=NEXT_IMAGE_REF)
    assert run.returncode == 0, run.output
    after = kubectl_json("-n", NAMESPACE, "get", "pod", f"{RELEASE}-postgresql-0")
    replaced = after["metadata"]["uid"] != database["metadata"]["uid"]
    report.record(
        "8c app version change (a new signed digest) and the bundled database",
        started,
        command=run.command,
        database_pod_replaced=replaced,
        why="the StatefulSet's pod template carries app.kubernetes.io/version (the app's tag)"
        if replaced
        else "",
    )
    assert not replaced, "a new app version restarted PostgreSQL (and lost an emptyDir's data)"


def test_uninstall_leaves_nothing_behind(report):
    started = time.time()
    run = make("uninstall")
    assert run.returncode == 0, run.output
    wait_for("the pods to go", lambda: not app_pods("app.kubernetes.io/instance=items-api"),
             timeout=120)  # fmt: skip
    left = kubectl(
        "-n", NAMESPACE, "get",
        "all,configmap,secret,pvc,networkpolicy,pdb,serviceaccount,role,rolebinding,job",
        "-o", "name",
    ).split()  # fmt: skip
    # Every namespace gets the first two from the control plane; the pull Secret is the
    # operator's (test_deploy_installs_from_the_registry_...), not the release's.
    ours = ("configmap/kube-root-ca.crt", "serviceaccount/default", f"secret/{PULL_SECRET}")
    left = [r for r in left if r not in ours]
    report.record(
        "8b make uninstall", started, uninstall_seconds=round(run.seconds, 1), left_behind=left
    )
    assert left == []
