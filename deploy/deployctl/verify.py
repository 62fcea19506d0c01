"""Is the release healthy? Rollout, pod readiness and /readyz through the Service, read from
API objects as JSON dicts; plus the pod diagnostics printed when it is not."""

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kubernetes.client.exceptions import ApiException

from .errors import DeployError
from .kube import Kube
from .release import Release

LOG_LINES = 20
EVENTS_SHOWN = 10


def _name(obj: dict[str, Any]) -> str:
    return obj["metadata"]["name"]


def rollout_problem(deployment: dict[str, Any]) -> str | None:
    """The Deployment controller's own verdict, from its conditions: a failed or stalled
    rollout, too few available replicas, pods it may not create. (helm --wait has already
    waited for the rollout itself; this is what `status` shows between deploys.)"""
    for condition in deployment.get("status", {}).get("conditions", []):
        failing = "True" if condition.get("type") == "ReplicaFailure" else "False"
        if condition.get("status") == failing:
            name = deployment["metadata"]["name"]
            return f"Deployment {name}: {condition.get('reason')} ({condition.get('message')})"
    return None


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def pod_problem(pod: dict[str, Any]) -> str | None:
    """Why a pod is not serving, in kubectl's words (CrashLoopBackOff, OOMKilled,
    Unschedulable...); None for a ready, finished or terminating pod."""
    status = pod.get("status", {})
    if pod["metadata"].get("deletionTimestamp") or status.get("phase") == "Succeeded":
        return None
    if is_ready(pod):
        return None
    reasons = []
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        state = container.get("state", {})
        restarts = container.get("restartCount", 0)
        again = f", {restarts} restarts" if restarts else ""
        last = container.get("lastState", {}).get("terminated")
        if "waiting" in state:
            waiting = state["waiting"]
            detail = waiting.get("message") or (
                f"last exit {last.get('reason')} ({last.get('exitCode')})" if last else ""
            )
            reasons.append(
                f"{container['name']}: {waiting.get('reason', 'Waiting')}"
                + (f" - {detail}" if detail else "")
                + again
            )
        elif "terminated" in state and state["terminated"].get("exitCode", 0) != 0:
            done = state["terminated"]
            reasons.append(
                f"{container['name']}: {done.get('reason')} "
                f"(exit code {done.get('exitCode')}){again}"
            )
        elif not container.get("ready"):
            reasons.append(f"{container['name']}: running, not ready{again}")
    if not reasons:
        for condition in status.get("conditions", []):
            if condition["status"] == "False" and condition.get("reason"):
                reasons.append(f"{condition['reason']}: {condition.get('message', '')}".strip())
    return "; ".join(reasons) or f"{status.get('phase', 'Unknown')}, not ready"


def format_events(events: Iterable[dict[str, Any]]) -> list[str]:
    """Oldest first; repeats of one event (separate objects once the series restarts) are
    folded into one line with the total count."""
    # To the second only: lastTimestamp has no fraction while eventTime has, and within one
    # second the API's own order (event names carry their creation time) is the right one.
    ordered = sorted(
        events, key=lambda e: (e.get("lastTimestamp") or e.get("eventTime") or "")[:19]
    )
    counts: dict[str, int] = {}
    for event in ordered:
        line = (
            f"{event.get('type', '')} {event.get('reason', '')}: {event.get('message', '').strip()}"
        )
        # Re-inserting moves a repeated event to where its latest occurrence belongs.
        counts[line] = counts.pop(line, 0) + (event.get("count") or 1)
    lines = [f"{line} (x{count})" if count > 1 else line for line, count in counts.items()]
    return lines[-EVENTS_SHOWN:]


def proxy_failure(status: int, body: str) -> str:
    """The API server's own reason when the proxy itself failed (no endpoints, no such
    Service), else the start of what the service answered."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and answer.get("kind") == "Status":
        message = answer.get("message", "")
        if "error trying to reach service" in message:
            # The proxy dials the pods from the control plane, which an enforced NetworkPolicy
            # only admits when told to.
            message += (
                " (the API server cannot reach the pods: with networkPolicy.enabled, admit the "
                "control plane's addresses in networkPolicy.extraIngress)"
            )
        return f"{status}: {message}"
    return f"{status}: {body[:300]}"


def recent_warnings(events: Iterable[dict[str, Any]], since: datetime) -> list[str]:
    """Warnings about the objects above the pods since `since`: a ReplicaSet that may not
    create pods (quota, admission), a failed migration Job, a Service without endpoints."""
    fresh = []
    for event in events:
        stamp = event.get("lastTimestamp") or event.get("eventTime")
        involved = event.get("involvedObject", {})
        if stamp and involved.get("kind") != "Pod" and datetime.fromisoformat(stamp) >= since:
            fresh.append(
                {
                    **event,
                    "reason": f"{involved.get('kind')}/{involved.get('name')} "
                    f"{event.get('reason', '')}",
                }
            )
    return format_events(fresh)


def unfinished_jobs(jobs: Iterable[dict[str, Any]]) -> list[str]:
    """Jobs that neither succeeded nor were cleaned up: a failed hook (the migration) stays,
    and keeps retrying, until the next deploy or an uninstall replaces it."""
    return [_name(job) for job in jobs if not job.get("status", {}).get("succeeded")]


@dataclass
class PodReport:
    name: str
    problem: str
    events: list[str]
    logs: dict[str, str] = field(default_factory=dict)


def report_pod(kube: Kube, namespace: str, pod: dict[str, Any], problem: str) -> PodReport:
    name = _name(pod)
    report = PodReport(name, problem, format_events(kube.pod_events(namespace, name)))
    status = pod.get("status", {})
    for container in status.get("initContainerStatuses", []) + status.get("containerStatuses", []):
        state = container.get("state", {})
        restarts = container.get("restartCount", 0)
        # A container that never started (image pull, scheduling) has no log to show.
        if container.get("ready") or not (restarts or "running" in state or "terminated" in state):
            continue
        # A crash-looping container's current log is empty; the crashed run's is the story.
        previous = bool(restarts) and "waiting" in state
        report.logs[container["name"]] = kube.pod_log(
            namespace, name, container["name"], previous, LOG_LINES
        )
    return report


def failing_pods(kube: Kube, release: Release) -> list[PodReport]:
    pods = kube.pods(release.namespace, release.selector)
    found = [(pod, pod_problem(pod)) for pod in pods]
    return [report_pod(kube, release.namespace, pod, problem) for pod, problem in found if problem]


class FailureWatch:
    """Samples the release's unhealthy pods while helm waits, because `--atomic` deletes the
    failed pods (and their logs) before helm returns; reports each change as it happens, so a
    five-minute wait is not silent."""

    def __init__(
        self, kube: Kube, release: Release, say: Callable[[str], None], interval_s: float = 5
    ) -> None:
        self.kube, self.release, self.say, self.interval_s = kube, release, say, interval_s
        self.reports: dict[str, PodReport] = {}
        self._shown: set[tuple[str, str]] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="failure-watch", daemon=True)

    def __enter__(self) -> "FailureWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self._sample()
            except (DeployError, ApiException):
                # Diagnostics are best effort; helm's own result decides the outcome.
                continue

    def _sample(self) -> None:
        for pod in self.kube.pods(self.release.namespace, self.release.selector):
            name = _name(pod)
            if pod["metadata"].get("deletionTimestamp"):
                # --atomic is removing it: keep what it showed while it was failing.
                continue
            problem = pod_problem(pod)
            if problem is None:
                if self.reports.pop(name, None):
                    self.say(f"waiting    pod {name}: ready")
                continue
            # Each state once: image pulls flip between ErrImagePull and ImagePullBackOff.
            if (name, problem) not in self._shown:
                self._shown.add((name, problem))
                self.say(f"waiting    pod {name}: {problem}")
            self.reports[name] = report_pod(self.kube, self.release.namespace, pod, problem)


@dataclass
class Health:
    problems: list[str]
    pods: list[str]
    ready: int
    images: list[str]
    readyz: str


def _selector(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def service_port(services: list[dict[str, Any]], pod_labels: dict[str, str]) -> tuple[str, str]:
    """The Service in front of the pods and the port to proxy to: the one reaching the app
    container's `http` port if any, else its `metrics` listener (which answers the probes
    too), else the one named `http`. With the nginx sidecar in front, the Service's `http`
    port reaches nginx, which keeps /readyz off the public side."""
    for service in services:
        selector = service["spec"].get("selector") or {}
        if selector and selector.items() <= pod_labels.items():
            ports = service["spec"].get("ports", [])
            named = (
                [p for p in ports if p.get("targetPort") == "http"]
                or [p for p in ports if p.get("targetPort") == "metrics"]
                or [p for p in ports if p.get("name") == "http"]
                or ports
            )
            if named:
                return _name(service), str(named[0].get("name") or named[0]["port"])
    return "", ""


def check_health(kube: Kube, release: Release, readyz_attempts: int = 3) -> Health:
    namespace = release.namespace
    deployments = kube.deployments(namespace, release.selector)
    if not deployments:
        return Health([f"no Deployment of release {release.name} in {namespace}"], [], 0, [], "")
    problems = [p for p in map(rollout_problem, deployments) if p]
    pods, images = [], set()
    for deployment in deployments:
        match = deployment["spec"]["selector"].get("matchLabels", {})
        for pod in kube.pods(namespace, _selector(match)):
            if pod["metadata"].get("deletionTimestamp"):
                continue
            pods.append(pod)
            images |= {c["image"] for c in pod["spec"]["containers"]}
    problems += [f"pod {_name(p)}: {pod_problem(p)}" for p in pods if not is_ready(p)]
    ready = sum(is_ready(p) for p in pods)
    template_labels = deployments[0]["spec"]["template"]["metadata"].get("labels", {})
    service, port = service_port(kube.services(namespace, release.selector), template_labels)
    if not service:
        problems.append(f"no Service selects the pods of release {release.name}")
        readyz = ""
    else:
        # Endpoints lag readiness by a moment after a rollout; with no ready pod, once is enough.
        attempts = readyz_attempts if pods and ready == len(pods) else 1
        for attempt in range(attempts):
            status, body = kube.proxy_get(namespace, service, port, "/readyz")
            if status == 200 or attempt + 1 == attempts:
                break
            time.sleep(2)
        readyz = f"{status} via service proxy {service}:{port}"
        if status != 200:
            problems.append(
                f"/readyz through {service}:{port} answered {proxy_failure(status, body)}"
            )
    names = sorted(_name(p) for p in pods)
    return Health(problems, names, ready, sorted(images), readyz)
