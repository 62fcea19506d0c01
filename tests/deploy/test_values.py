"""What deployctl reads from the chart is what helm renders: the image the pods run and the
Secret they read, with every environment's values and the real helm."""

import pytest
import yaml
from deployctl.actions import Options, render
from deployctl.errors import DeployError, ExitCode
from deployctl.release import ENVIRONMENTS
from deployctl.values import Image, parse_image


def test_image_references_as_the_chart_writes_them():
    assert parse_image("localhost/items-api:0.1.0") == Image(
        "localhost/items-api:0.1.0", "0.1.0", ""
    )
    assert parse_image("reg:5000/items-api@sha256:ab") == Image(
        "reg:5000/items-api@sha256:ab", "", "sha256:ab"
    )
    assert parse_image("reg:5000/items-api").tag == ""


# Out-of-band in staging and production; this stands in for a values file kept outside git.
SECRETS = {
    "secrets": {
        "existingSecret": "",
        "databaseUrl": "postgresql+asyncpg://u:p@db/items",
        "jwtSecret": "t" * 64,
    }
}


def values_file(tmp_path, values) -> tuple:
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump(values))
    return (path,)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_image_tag_given_is_the_one_the_pods_run(env):
    _, rendered = render(Options(env), "0.1.0-abc1234")
    assert rendered.image.tag == "0.1.0-abc1234"
    assert rendered.image.reference.endswith("/items-api:0.1.0-abc1234")


def test_a_digest_in_the_values_pins_the_image(tmp_path):
    pinned = values_file(tmp_path, {"image": {"digest": "sha256:" + "a" * 64}})
    _, rendered = render(Options("dev", values=pinned), "0.1.0")
    assert rendered.image.digest == "sha256:" + "a" * 64
    assert "@sha256:" in rendered.image.reference


@pytest.mark.parametrize("env", ["staging", "production"])
def test_shared_environments_read_an_existing_secret(env, tmp_path):
    _, rendered = render(Options(env), "0.1.0")
    assert (rendered.secret, rendered.secret_in_chart) == ("items-api-secrets", False)
    _, given = render(Options(env, values=values_file(tmp_path, SECRETS)), "0.1.0")
    assert given.secret_in_chart


def test_dev_has_the_chart_create_its_secret():
    _, rendered = render(Options("dev"), None)
    assert rendered.secret_in_chart


@pytest.mark.parametrize("env", ["staging", "production"])
def test_missing_secret_values_are_refused_with_the_charts_own_words(env, tmp_path):
    unset = values_file(tmp_path, {"secrets": {"existingSecret": ""}})
    with pytest.raises(DeployError) as caught:
        render(Options(env, values=unset), "0.1.0")
    assert caught.value.code == ExitCode.PREFLIGHT
    for key in ("secrets.databaseUrl", "secrets.jwtSecret"):
        assert key in str(caught.value)
    assert "\n" not in str(caught.value)


def test_the_refusal_never_shows_a_secret_value(tmp_path):
    url = "postgresql+asyncpg://u:hunter2@h/db"  # pragma: allowlist secret (the value to hide)
    half = {"secrets": {"existingSecret": "", "databaseUrl": url}}
    with pytest.raises(DeployError) as caught:
        render(Options("staging", values=values_file(tmp_path, half)), "0.1.0")
    assert "secrets.jwtSecret" in str(caught.value)
    assert "hunter2" not in str(caught.value)
