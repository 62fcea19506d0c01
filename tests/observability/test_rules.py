"""The alert rules are actionable, and broken rules fail loudly with the alert's name."""

import copy
import subprocess
import sys

import pytest
import yaml

from observability.lint_rules import RUNBOOK, alert_problems, runbook_anchors
from tests.observability.conftest import PROMTOOL, REPO, alerting_rules


def with_alert_changed(rules: dict, name: str, change) -> dict:
    """A copy of the rules in which `change(rule)` was applied to the first rule `name`."""
    broken = copy.deepcopy(rules)
    rule = next(r for r in alerting_rules(broken) if r["alert"] == name)
    change(rule)
    return broken


def test_every_alert_has_severity_summary_description_and_runbook(rules):
    assert alert_problems(rules, runbook_anchors(RUNBOOK.read_text())) == []


def test_every_runbook_section_is_an_alert_and_every_alert_has_one(rules):
    sections = runbook_anchors(RUNBOOK.read_text()) - {"items-api-runbook"}
    assert sections == {rule["alert"].lower() for rule in alerting_rules(rules)}


def test_promtool_accepts_the_rules(tmp_path, rules_text):
    path = tmp_path / "items-api.rules.yaml"
    path.write_text(rules_text)
    result = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rejects_a_syntax_error_and_names_the_alert(tmp_path, rules):
    broken = with_alert_changed(
        rules, "ItemsApiWorkersSaturated", lambda r: r.update(expr=r["expr"].replace("))", ")", 1))
    )
    path = tmp_path / "items-api.rules.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run([PROMTOOL, "check", "rules", path], capture_output=True, text=True)
    assert result.returncode != 0
    assert "ItemsApiWorkersSaturated" in result.stdout + result.stderr


def test_an_alert_without_runbook_fails_the_lint_with_its_name(tmp_path, rules):
    broken = with_alert_changed(
        rules, "ItemsApiDBPoolTimeouts", lambda r: r["annotations"].pop("runbook_url")
    )
    path = tmp_path / "items-api.rules.yaml"
    path.write_text(yaml.safe_dump(broken))
    result = subprocess.run(
        [sys.executable, REPO / "observability" / "lint_rules.py", path],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "ItemsApiDBPoolTimeouts: annotation runbook_url is missing" in result.stderr


@pytest.mark.parametrize(
    ("alert", "annotations", "problem"),
    [
        ("ItemsApiAbsent", {"runbook_url": "observability/runbook.md#nowhere"}, "runbook_url"),
        ("ItemsApiTargetDown", {"description": "Down."}, "description does not quote"),
        ("ItemsApiPodRestarting", {"summary": ""}, "annotation summary is missing"),
    ],
)
def test_each_broken_annotation_is_reported_with_the_alert_name(rules, alert, annotations, problem):
    broken = with_alert_changed(rules, alert, lambda r: r["annotations"].update(annotations))
    problems = alert_problems(broken, runbook_anchors(RUNBOOK.read_text()))
    assert len(problems) == 1
    assert problems[0].startswith(f"{alert}: {problem}")


def test_an_alert_without_severity_is_reported(rules):
    broken = with_alert_changed(rules, "ItemsApiAbsent", lambda r: r["labels"].pop("severity"))
    problems = alert_problems(broken, runbook_anchors(RUNBOOK.read_text()))
    assert problems == [
        "ItemsApiAbsent: label severity must be one of ['critical', 'info', 'warning']"
    ]
