"""The dashboard JSON is what its generator renders, and imports into any Grafana."""

import json
import subprocess
import sys

from grafana_foundation_sdk.cog.plugins import register_default_plugins
from grafana_foundation_sdk.models.dashboard import Dashboard

from observability import dashboard
from tests.observability.conftest import CHART, REPO

SHIPPED = CHART / "files" / "grafana" / "items-api.json"


def panels(board: dict) -> list[dict]:
    return [p for p in board["panels"] if p["type"] != "row"]


def test_shipped_json_is_the_generated_one():
    assert SHIPPED.read_text() == dashboard.render()


def test_a_hand_edited_dashboard_fails_the_check(tmp_path):
    edited = tmp_path / "items-api.json"
    edited.write_text(SHIPPED.read_text().replace('"title": "items-api"', '"title": "mine"'))
    result = subprocess.run(
        [sys.executable, REPO / "observability" / "dashboard.py", "--check", edited],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "make dashboard" in result.stderr
    assert '+  "title": "items-api"' in result.stderr


def test_every_panel_queries_the_chosen_prometheus():
    board = json.loads(SHIPPED.read_text())
    assert {p["datasource"]["uid"] for p in panels(board)} == {"${datasource}"}
    assert all(p["targets"] for p in panels(board))


def test_the_dashboard_covers_slo_traffic_saturation_and_pods():
    titles = [p["title"] for p in json.loads(SHIPPED.read_text())["panels"] if p["type"] == "row"]
    assert titles == ["Service level objectives", "Traffic per route", "Saturation", "Pods"]


def test_the_json_decodes_as_a_grafana_dashboard_with_options_on_every_panel():
    board = json.loads(SHIPPED.read_text())
    register_default_plugins()
    assert len(Dashboard.from_json(board).panels) == len(board["panels"])
    assert [p["title"] for p in panels(board) if not p.get("options")] == []
