"""The in-cluster Prometheus of the e2e (manifests/prometheus.yaml) and what the scenarios ask
it: instant and range queries, and the availability alert's state over time."""

import string
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from harness.prometheus import Prometheus
from observability.render_rules import render_rules

from .cluster import HELM, NAMESPACE, RELEASE, ROOT, kubectl, service_url, wait_for

MANIFEST = Path(__file__).parent / "manifests" / "prometheus.yaml"
E2E_VALUES = ROOT / "deploy" / "values" / "e2e.yaml"
ALERT = "ItemsApiAvailabilityBudgetBurn"


def manifests(image: str) -> str:
    # The rules exactly as the chart ships them, with the e2e values' test-sized `for:`.
    rules = render_rules(
        str(HELM), release=RELEASE, namespace=NAMESPACE, helm_args=["-f", str(E2E_VALUES)]
    )
    rules_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "prometheus-rules", "namespace": "monitoring"},
        "data": {"items-api.rules.yaml": rules},
    }
    filled = string.Template(MANIFEST.read_text()).substitute(
        APP_NAMESPACE=NAMESPACE, PROMETHEUS_IMAGE=image, RUN=f"{time.time():.0f}"
    )
    return filled + "\n---\n" + yaml.safe_dump(rules_map)


def deploy(image: str) -> Prometheus:
    kubectl("apply", "-f", "-", stdin=manifests(image))
    kubectl("-n", "monitoring", "rollout", "status", "deployment/prometheus", "--timeout=180s",
            timeout=200)  # fmt: skip
    prometheus = Prometheus(service_url("prometheus", "monitoring"))
    wait_for("Prometheus to answer", prometheus.ready, timeout=60)
    return prometheus


@dataclass
class AlertTimeline:
    """Samples the fast-burn (1h/5m) availability alert every few seconds in the background
    and keeps each change of state (inactive, pending, firing) with its time."""

    prometheus: Prometheus
    every: float = 2.0
    changes: list[tuple[float, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "AlertTimeline":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def state(self) -> str:
        alerts = [a for a in self.prometheus.alerts(ALERT) if a["labels"].get("long") == "1h"]
        return alerts[0]["state"] if alerts else "inactive"

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                state = self.state()
            except httpx.HTTPError:
                state = None
            if state and (not self.changes or self.changes[-1][1] != state):
                self.changes.append((time.time(), state))
            self._stop.wait(self.every)

    def first(self, state: str, after: float = 0) -> float | None:
        return next((t for t, s in self.changes if s == state and t >= after), None)
