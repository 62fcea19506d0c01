"""What `make diff` shows, through the real helm and the helm-diff plugin `make tools`
installs: the objects with the values deployctl passes, and Secret values never. Without a
cluster, helm-diff's client-side mode diffs against an empty release (a first install)."""

import pytest
import yaml
from deployctl.helm import Helm
from deployctl.release import DEFAULT_HELM, HELM_PLUGINS, Release

DEV = Release.for_env("dev")
JWT = "jwt-value-never-printed-" + "x" * 40

pytestmark = pytest.mark.skipif(
    not (HELM_PLUGINS / "diff" / "plugin.yaml").is_file(),
    reason=f"helm-diff is not installed in {HELM_PLUGINS} (make tools)",
)


def first_install_diff(tmp_path, image_tag: str) -> str:
    extra = tmp_path / "secrets.yaml"
    extra.write_text(yaml.safe_dump({"secrets": {"jwtSecret": JWT}}))
    helm = Helm(DEFAULT_HELM, DEV, None, None, 60)
    args = helm.diff_args((extra,), image_tag)
    offline = ["--dry-run=client" if a == "--dry-run=server" else a for a in args]
    return helm.run(offline)


def test_a_first_install_shows_every_object_with_the_given_image(tmp_path):
    changes = first_install_diff(tmp_path, "0.1.0-abc1234")
    assert ", items-api, Deployment (apps) has been added" in changes
    assert "image: localhost/items-api:0.1.0-abc1234" in changes
    # Hooks (the migration Job) are part of what a deploy changes.
    assert ", items-api-migrate, Job (batch) has been added" in changes


def test_secret_values_are_redacted(tmp_path):
    changes = first_install_diff(tmp_path, "t")
    assert ", items-api, Secret (v1) has been added" in changes
    assert "JWT_SECRET: '++++++++ # (" in changes
    assert JWT not in changes
