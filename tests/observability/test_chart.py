"""What the chart does with the observability values: PrometheusRule, dashboard ConfigMap."""

import json
import subprocess

import pytest
import yaml

from observability.render_rules import RenderError, render_rules
from tests.observability.conftest import CHART, HELM


def helm_template(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [HELM, "template", "items-api", CHART, "--namespace", "items",
         "--set", "secrets.existingSecret=items-api", *args],
        capture_output=True, text=True,
    )  # fmt: skip


def kinds(manifests: str) -> list[str]:
    return [doc["kind"] for doc in yaml.safe_load_all(manifests) if doc]


def test_rules_and_dashboard_are_opt_in():
    result = helm_template()
    assert result.returncode == 0, result.stderr
    assert "PrometheusRule" not in kinds(result.stdout)
    assert "grafana_dashboard" not in result.stdout


@pytest.mark.parametrize("target", ["slo.availability.target", "slo.latency.target"])
@pytest.mark.parametrize("value", ["0", "1", "1.5", "-0.01"])
@pytest.mark.parametrize("schema", ["validated", "--skip-schema-validation"])
def test_chart_refuses_an_slo_target_outside_0_1(target, value, schema):
    extra = [schema] if schema.startswith("--") else []
    result = helm_template(
        "--set", "prometheusRule.enabled=true", "--set", f"{target}={value}", *extra
    )
    assert result.returncode != 0
    # The schema names the path (/slo/latency/target), the template's own check the key.
    assert target.split(".")[1] in result.stderr
    assert "target" in result.stderr


def test_slo_values_reach_the_rules():
    values = ["slo.availability.target=0.995", "slo.latency.thresholdSeconds=1"]
    text = render_rules(str(HELM), helm_args=[arg for v in values for arg in ("--set-json", v)])
    assert "(14.4 * (1 - 0.995))" in text
    # prometheus_client writes whole bucket bounds with a ".0"; the rule must match that.
    assert 'le="1.0"' in text
    assert "${" not in text


def test_latency_threshold_must_be_a_histogram_bucket_boundary():
    with pytest.raises(RenderError, match="thresholdSeconds"):
        render_rules(str(HELM), helm_args=["--set-json", "slo.latency.thresholdSeconds=0.3"])


def test_rule_labels_let_a_prometheus_select_the_rule():
    result = helm_template(
        "--set", "prometheusRule.enabled=true",
        "--set", "prometheusRule.labels.release=kube-prometheus-stack",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rule = next(d for d in yaml.safe_load_all(result.stdout) if d and d["kind"] == "PrometheusRule")
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    assert rule["metadata"]["namespace"] == "items"


def test_dashboard_configmap_carries_the_sidecar_label_and_the_generated_json():
    result = helm_template("--set", "grafanaDashboard.enabled=true")
    assert result.returncode == 0, result.stderr
    config_map = next(
        d for d in yaml.safe_load_all(result.stdout)
        if d and d["kind"] == "ConfigMap" and "grafana_dashboard" in d["metadata"]["labels"]
    )  # fmt: skip
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    shipped = (CHART / "files" / "grafana" / "items-api.json").read_text()
    assert config_map["data"]["items-api.json"] == shipped
    assert json.loads(shipped)["uid"] == "items-api"
