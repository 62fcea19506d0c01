"""The chart's rendered rules, and the pinned helm and promtool `make test` builds first."""

from pathlib import Path

import pytest
import yaml

from observability.render_rules import render_rules

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "helm" / "items-api"
HELM = REPO / ".tools" / "bin" / "helm"
PROMTOOL = REPO / ".tools" / "bin" / "promtool"


@pytest.fixture(scope="session")
def rules_text() -> str:
    """The rules file exactly as the chart ships it with its default values."""
    return render_rules(str(HELM))


@pytest.fixture(scope="session")
def rules(rules_text: str) -> dict:
    return yaml.safe_load(rules_text)


def alerting_rules(rules: dict) -> list[dict]:
    return [rule for group in rules["groups"] for rule in group["rules"] if "alert" in rule]
