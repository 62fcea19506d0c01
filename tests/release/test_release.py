"""The release path against a real registry: push by digest, basic auth, a cosign signature
and SBOM attestation that verify, the chart published as an OCI artifact."""

import json
import tarfile
from pathlib import Path

import pytest

from .conftest import ROOT, TOOLS, Registry

pytestmark = pytest.mark.slow

PUSH = str(ROOT / "container/release/push")
SIGN = str(ROOT / "container/release/sign")
PUBLISH = str(ROOT / "container/release/publish-chart")
WITH_REGISTRY = str(ROOT / "container/release/with-registry")


def image_archive(registry: Registry, directory: Path, content: str) -> Path:
    """A one-layer image as an archive, the form CI hands to `make image-push`."""
    (directory / "hello.txt").write_text(content)
    layer = directory / "layer.tar"
    with tarfile.open(layer, "w") as tar:
        tar.add(directory / "hello.txt", arcname="hello.txt")
    archive = directory / "image.tar"
    registry.crane("append", "-f", str(layer), "-t", "local/test:build", "-o", str(archive))
    return archive


def push(registry: Registry, archive: Path, name: str, tag: str) -> str:
    done = registry.run(PUSH, str(archive), name, tag)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.fixture(scope="module")
def pushed(registry: Registry, tmp_path_factory) -> str:
    archive = image_archive(registry, tmp_path_factory.mktemp("image"), "signed")
    return push(registry, archive, "items-api", "0.1.0-test")


@pytest.fixture(scope="module")
def key_pair(registry: Registry, tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    done = registry.run(str(ROOT / "container/release/signing-key"), str(directory))
    assert done.returncode == 0, done.stderr
    assert (directory / "cosign.password").stat().st_mode & 0o077 == 0
    return directory


def test_push_prints_the_digest_the_registry_serves_for_the_tag(registry, pushed):
    name, _, digest = pushed.partition("@")
    assert name == f"{registry.address}/items-api"
    assert registry.crane("digest", f"{name}:0.1.0-test") == digest
    assert Path(registry.env["RELEASE_STATE"], "items-api.ref").read_text().strip() == pushed


def test_the_registry_refuses_a_pull_without_credentials(registry, pushed, tmp_path):
    anonymous = registry.run(
        str(TOOLS / "crane"), "manifest", pushed,
        env={"DOCKER_CONFIG": str(tmp_path), "SSL_CERT_FILE": registry.env["REGISTRY_CA"]},
    )  # fmt: skip
    assert anonymous.returncode != 0
    assert "UNAUTHORIZED" in anonymous.stderr


def test_a_wrong_password_stops_the_push_with_one_line(registry, tmp_path):
    archive = image_archive(registry, tmp_path, "never pushed")
    done = registry.run(PUSH, str(archive), "items-api", "refused", env={"REGISTRY_PASSWORD": "x"})
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        f"push: login to {registry.address} as items-api refused"
    )


def test_signature_and_sbom_attestation_verify_with_the_public_key(registry, pushed, key_pair):
    env = {"COSIGN_KEY": str(key_pair / "cosign.key")}
    signed = registry.run(SIGN, pushed, env=env)
    assert signed.returncode == 0, signed.stderr
    assert signed.stdout.startswith(f"signed {pushed} and attached its SBOM")
    cosign = str(TOOLS / "cosign")
    public = ["--key", str(key_pair / "cosign.pub"), "--insecure-ignore-tlog=true"]
    verified = registry.run(WITH_REGISTRY, cosign, "verify", *public, pushed)
    assert verified.returncode == 0, verified.stderr
    claims = json.loads(verified.stdout)
    assert claims[0]["critical"]["image"]["docker-manifest-digest"] == pushed.split("@")[1]
    attested = registry.run(
        WITH_REGISTRY, cosign, "verify-attestation", "--type", "spdxjson", *public, pushed
    )
    assert attested.returncode == 0, attested.stderr


def test_signing_a_tag_is_refused(registry, pushed, key_pair):
    tag = pushed.split("@")[0] + ":0.1.0-test"
    done = registry.run(SIGN, tag, env={"COSIGN_KEY": str(key_pair / "cosign.key")})
    assert done.returncode != 0
    assert "names no digest" in done.stderr


def test_chart_is_published_at_its_chart_yaml_version(registry):
    version = next(
        line.split(":", 1)[1].strip()
        for line in (ROOT / "helm/items-api/Chart.yaml").read_text().splitlines()
        if line.startswith("version:")
    )
    done = registry.run(PUBLISH, str(ROOT / "helm/items-api"), version)
    assert done.returncode == 0, done.stderr
    reference, printed_version, digest = done.stdout.split()
    assert reference == f"oci://{registry.address}/charts/items-api"
    assert printed_version == version
    assert digest.startswith("sha256:")
    shown = registry.run(
        WITH_REGISTRY, str(TOOLS / "helm"), "show", "chart", reference, "--version", version
    )
    assert shown.returncode == 0, shown.stderr
    assert f"version: {version}" in shown.stdout
