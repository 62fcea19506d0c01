from app.core.config import settings_table

from harness.service import REPO


def test_readme_configuration_table_matches_the_settings():
    # Regenerate with: .venv/bin/items-api settings-table
    assert settings_table() in (REPO / "README.md").read_text()
