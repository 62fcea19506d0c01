"""What the image is made of: who it runs as, what it ships, and what it must not ship."""

import json
import re
import tarfile
import tempfile
from pathlib import Path

from harness.container import HARDENED
from tests.image.conftest import FIGURES, baked_env

CA_BUNDLE_NAME = "ca-certificates.crt"
# A whole PEM certificate or private key, not just its marker: TLS libraries hold the
# markers as strings, and apt's PGP keyrings are public keys, meant to be there.
PEM_BLOCK = re.compile(
    rb"-----BEGIN ([A-Z]+ )?(CERTIFICATE|PRIVATE KEY)-----\r?\n[A-Za-z0-9+/=\r\n]{40,}-----END"
)


def test_runs_as_a_non_root_numeric_uid(engine, image):
    user = engine("image", "inspect", "--format", "{{.Config.User}}", image).stdout.strip()
    assert user == "10001:10001"  # numeric, so Kubernetes' runAsNonRoot can verify it

    ids = engine("run", "--rm", *HARDENED, "--entrypoint", "id", image).stdout.split()
    assert ids[:2] == ["uid=10001(app)", "gid=10001(app)"]


def test_final_stage_has_no_compilers_or_build_tools(engine, image):
    probe = (
        "for tool in gcc cc c++ make ld strip pip pip3; do command -v $tool; done;"
        "python3.11 -c 'import pip' 2>/dev/null && echo pip-module;"
        "python3.11 -c 'import setuptools' 2>/dev/null && echo setuptools-module; true"
    )
    found = engine("run", "--rm", *HARDENED, "--entrypoint", "sh", image, "-c", probe).stdout
    assert found.split() == []


def test_runs_debian_python_3_11(engine, image):
    result = engine(
        "run", "--rm", *HARDENED, "--entrypoint", "python", image, "-c",
        "import sys; print(sys.version_info[:2], sys.executable, sys.base_prefix)",
    )  # fmt: skip
    assert result.stdout.split("\n")[0] == "(3, 11) /opt/venv/bin/python /usr"


def _layer_members(archive: Path):
    """(layer, member, file object or None) for every entry of every layer of a saved image."""
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        for layer in manifest[0]["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as inner:
                for member in inner:
                    yield layer, member, inner.extractfile(member) if member.isfile() else None


def test_no_secret_or_ca_material_in_history_or_layers(engine, image):
    history = engine("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).stdout
    config = engine("image", "inspect", image).stdout
    for text in (history, config):
        assert not PEM_BLOCK.search(text.encode())
        assert "BEGIN CERTIFICATE" not in text
    for variable in ("PIP_CERT", "DATABASE_URL", "JWT_SECRET"):
        assert variable not in config

    with tempfile.TemporaryDirectory(prefix="items-api-image-") as scratch:
        archive = Path(scratch) / "image.tar"
        # docker save writes this format by default and knows no --format.
        podman_format = ["--format", "docker-archive"] if engine.command == "podman" else []
        engine("save", *podman_format, "--output", str(archive), image)
        found, with_pem, debian_files, layers = [], set(), set(), set()
        for layer, member, content in _layer_members(archive):
            layers.add(layer)
            path = member.name.removeprefix(".")
            if "secrets" in Path(path).parts or path.endswith(CA_BUNDLE_NAME):
                found.append(path)
            if content is None:
                continue
            data = content.read()
            if path.startswith("/var/lib/dpkg/info/") and path.endswith(".list"):
                debian_files.update(data.decode().splitlines())
            if PEM_BLOCK.search(data):
                with_pem.add(path)
        # Debian's own files may embed keys (GnuTLS carries its FIPS self-test key); anything
        # else holding one was put there by our build.
        assert found + sorted(with_pem - debian_files) == []
        size_mb = int(engine("image", "inspect", "--format", "{{.Size}}", image).stdout) / 1e6
        FIGURES["image size"] = f"{size_mb:.0f} MB in {len(layers)} layers ({image})"


def test_tagged_with_the_version_and_commit_it_reports(engine, image):
    baked = baked_env(engine, image)
    versioned = f"{image.rsplit(':', 1)[0]}:{baked['APP_VERSION']}-{baked['GIT_SHA']}"
    ids = [
        engine("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()
        for name in (image, versioned)
    ]
    assert ids[0] == ids[1]
