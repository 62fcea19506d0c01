"""What `make image` says when something it needs is missing: one line, and no tag."""

import os
import shutil
import subprocess

import pytest

from harness.container import REPO
from harness.net import free_port


def messages(result: subprocess.CompletedProcess, prefix: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(prefix)]


def test_missing_engine_is_named_with_how_to_get_it(tmp_path):
    (tmp_path / "bash").symlink_to(shutil.which("bash"))
    result = subprocess.run(
        [REPO / "container" / "engine"], env={"PATH": str(tmp_path)}, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "podman runc not installed" in result.stderr
    assert "make container-tools" in result.stderr


@pytest.mark.skipif(
    shutil.which("podman") is None or os.geteuid() != 0,
    reason="the local base is bootstrapped as root and imported with podman",
)
def test_failed_base_build_names_the_mirror_and_leaves_nothing(tmp_path):
    mirror = f"http://127.0.0.1:{free_port()}/debian"
    tag = f"localhost/debian-base:unreachable-{os.getpid()}"
    archive = tmp_path / "base.tar"
    result = subprocess.run(
        [REPO / "container" / "debian-base", "bookworm", tag, archive],
        env={**os.environ, "DEBIAN_MIRROR": mirror}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1
    [message] = messages(result, "base-image: debootstrap of bookworm failed")
    assert f"check that {mirror} is reachable or set DEBIAN_MIRROR" in message
    assert not archive.exists()
    assert subprocess.run(["podman", "image", "exists", tag]).returncode == 1


@pytest.mark.slow
def test_unreachable_package_index_stops_the_build_without_a_tag(engine, image, tmp_path):
    index = f"http://127.0.0.1:{free_port()}/simple"
    name = f"localhost/items-api-unreachable-{os.getpid()}"
    result = subprocess.run(
        ["make", "-C", REPO, "image", f"IMAGE_NAME={name}", f"PIP_INDEX_URL={index}",
         f"IMAGE_BUILD_LOG={tmp_path / 'build.log'}"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode != 0
    [message] = messages(result, "make image:")
    assert message.startswith(f"make image: the Python package index ({index}) is unreachable")
    tags = engine("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert [tag for tag in tags if tag.startswith(name)] == []
