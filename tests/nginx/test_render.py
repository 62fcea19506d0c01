"""nginx/render.py: one set of templates, every placeholder filled, nginx's own $vars kept."""

import re
from pathlib import Path

import pytest
from app.core.config import Settings

from nginx import render
from tests.nginx.conftest import assert_nginx_accepts


@pytest.mark.parametrize("profile", sorted(render.PROFILES))
def test_every_profile_fills_every_placeholder_and_keeps_nginx_variables(profile):
    files = render.render(render.values_for(profile))

    assert set(files) == {"nginx.conf", "api.conf", "public-http.conf", "public-https.conf"}
    for text in files.values():
        assert not render.PLACEHOLDER.search(text)
    assert "$request_id" in files["nginx.conf"]
    assert "$http_upgrade" in files["api.conf"]


def test_an_override_no_template_uses_is_refused():
    with pytest.raises(render.RenderError, match="LISTEN_PORT"):
        render.values_for("local", {"LISTEN_PORT": "80"})


def test_a_public_scheme_without_its_server_file_is_refused():
    with pytest.raises(render.RenderError, match="PUBLIC_SCHEME"):
        render.values_for("local", {"PUBLIC_SCHEME": "tls"})


def test_a_placeholder_without_a_value_is_refused():
    with pytest.raises(render.RenderError, match="NEW_KNOB"):
        render.render_text("keepalive ${NEW_KNOB};", {})


def test_upstream_idle_timeout_stays_below_the_services_keepalive():
    nginx_seconds = int(re.fullmatch(r"(\d+)s", render.TUNING["UPSTREAM_KEEPALIVE_TIMEOUT"])[1])

    assert nginx_seconds < Settings.model_fields["KEEPALIVE_S"].default


def test_cli_writes_the_rendering_and_its_directories(tmp_path, capsys):
    run_dir = tmp_path / "run"
    out = tmp_path / "conf"

    render.main(["--profile", "tls", "--set", f"RUN_DIR={run_dir}", "--out", str(out)])

    assert capsys.readouterr().out.strip() == str(out / "nginx.conf")
    assert f"pid {run_dir}/nginx.pid;" in (out / "nginx.conf").read_text()
    assert "include public-https.conf;" in (out / "nginx.conf").read_text()
    assert run_dir.is_dir()


def test_cli_rejects_a_malformed_override(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        render.main(["--set", "lower=1", "--out", str(tmp_path)])

    assert exit_info.value.code == 2
    assert "NAME=VALUE" in capsys.readouterr().err


def test_vm_rendering_passes_nginx_t(nginx_dir: Path, tmp_path: Path):
    # The README's rendering, with its host paths moved under a temporary directory.
    tmp_path.chmod(0o755)
    values = render.values_for(
        "vm",
        {
            "RUN_DIR": str(tmp_path / "run"),
            "ACCESS_LOG": str(tmp_path / "access.log"),
            "ERROR_LOG": str(tmp_path / "error.log"),
            "TLS_CERT": str(nginx_dir / "tls.crt"),
            "TLS_KEY": str(nginx_dir / "tls.key"),
        },
    )
    conf = render.write(tmp_path / "conf", values)

    assert_nginx_accepts(conf)
