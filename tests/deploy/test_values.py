"""The values deployctl reasons about are the ones helm renders: merge rules, the image
reference and the secret requirements, checked against the real chart with the real helm."""

import subprocess

import pytest
import yaml
from deployctl.release import DEFAULT_HELM, ENVIRONMENTS, Release
from deployctl.values import app_version, effective_values, image_of, merge, missing_secret_values


def test_merge_is_helms_maps_merge_everything_else_replaces():
    base = {"image": {"repository": "r", "tag": ""}, "args": ["a", "b"], "x": 1}
    override = {"image": {"tag": "t"}, "args": ["c"], "y": None}
    assert merge(base, override) == {
        "image": {"repository": "r", "tag": "t"},
        "args": ["c"],
        "x": 1,
        "y": None,
    }


def test_image_reference_follows_the_chart_rule():
    values = {"image": {"registry": "localhost", "repository": "items-api", "tag": ""}}
    assert image_of(values, "0.1.0").reference == "localhost/items-api:0.1.0"
    values["image"]["digest"] = "sha256:abc"
    assert image_of(values, "0.1.0").reference == "localhost/items-api@sha256:abc"


def test_missing_secret_values():
    assert missing_secret_values({}) == ["secrets.databaseUrl", "secrets.jwtSecret"]
    bundled = {"postgresql": {"enabled": True}, "secrets": {"jwtSecret": "x"}}
    assert missing_secret_values(bundled) == []


def helm_template(release: Release, *extra: str) -> subprocess.CompletedProcess:
    args = [
        str(DEFAULT_HELM),
        "template",
        release.name,
        str(release.chart),
        "--namespace",
        release.namespace,
        "--values",
        str(release.values_file),
        *extra,
    ]
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=60)


# Out-of-band in staging and production; this stands in for a values file kept outside git.
SECRETS = {
    "secrets": {
        "existingSecret": "",
        "databaseUrl": "postgresql+asyncpg://u:p@db/items",
        "jwtSecret": "t" * 64,
    }
}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_image_deployctl_reports_is_the_one_the_chart_renders(env, tmp_path):
    release = Release.for_env(env)
    extra = tmp_path / "secrets.yaml"
    extra.write_text(yaml.safe_dump(SECRETS))
    values = effective_values(release, [extra], "0.1.0-abc1234")
    rendered = helm_template(
        release, "--values", str(extra), "--set-string", "image.tag=0.1.0-abc1234"
    )
    assert rendered.returncode == 0, rendered.stderr
    deployment = next(
        doc for doc in yaml.safe_load_all(rendered.stdout) if doc and doc["kind"] == "Deployment"
    )
    images = {c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]}
    assert image_of(values, app_version(release)).reference in images


@pytest.mark.parametrize("env", ["staging", "production"])
def test_what_preflight_calls_missing_the_chart_refuses_too(env, tmp_path):
    release = Release.for_env(env)
    unset = tmp_path / "no-secret.yaml"
    unset.write_text(yaml.safe_dump({"secrets": {"existingSecret": ""}}))
    missing = missing_secret_values(effective_values(release, [unset], None))
    assert missing == ["secrets.databaseUrl", "secrets.jwtSecret"]
    rendered = helm_template(release, "--values", str(unset))
    assert rendered.returncode != 0
    for key in missing:
        assert key in rendered.stderr
