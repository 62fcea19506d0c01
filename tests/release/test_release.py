"""The release path against a real registry: push by digest, basic auth, a cosign signature
and SBOM attestation that verify, the chart published as an OCI artifact."""

import json
import tarfile
from pathlib import Path

import pytest

from .conftest import ROOT, TOOLS, Registry, require_tools

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
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(f"push: push of {archive} to {registry.address}/items-api:refused")
    assert "401 Unauthorized" in line


def test_signature_and_sbom_attestation_verify_with_the_public_key(registry, pushed, key_pair):
    require_tools("syft")
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


def deployctl(registry: Registry, *args: str) -> tuple[int, str]:
    """`make deploy` as production runs it, with no cluster configured: a refusal must come
    from the signature check, before the tool looks for one (exit 3)."""
    done = registry.run(
        WITH_REGISTRY, str(ROOT / ".venv/bin/python"), "-m", "deployctl", "--env", "production",
        "--helm", str(TOOLS / "helm"), "--cosign", str(TOOLS / "cosign"), *args, "deploy",
        env={"KUBECONFIG": "/nonexistent", "HOME": "/nonexistent"},
    )  # fmt: skip
    return done.returncode, done.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def signed(registry, pushed, key_pair) -> str:
    require_tools("syft")
    done = registry.run(SIGN, pushed, env={"COSIGN_KEY": str(key_pair / "cosign.key")})
    assert done.returncode == 0, done.stderr
    return pushed


def test_deploy_refuses_an_unsigned_digest(registry, signed, key_pair):
    unsigned = registry.crane("mutate", signed, "--label", "test=unsigned",
                              "-t", f"{registry.address}/items-api:unsigned")  # fmt: skip
    code, line = deployctl(registry, "--image", unsigned, "--verify-key",
                           str(key_pair / "cosign.pub"))  # fmt: skip
    assert code == 9
    assert line.startswith(f"deployctl: refusing {unsigned}: it carries no signature")


def test_deploy_refuses_a_digest_signed_by_another_key(registry, signed, tmp_path):
    other = registry.run(str(ROOT / "container/release/signing-key"), str(tmp_path))
    assert other.returncode == 0, other.stderr
    code, line = deployctl(registry, "--image", signed, "--verify-key",
                           str(tmp_path / "cosign.pub"))  # fmt: skip
    assert code == 9
    assert "its signature was not made by the trusted signer" in line


def test_production_refuses_a_tag_without_a_digest(registry, signed, key_pair):
    tag = signed.split("@")[0] + ":0.1.0-test"
    code, line = deployctl(registry, "--image", tag, "--verify-key", str(key_pair / "cosign.pub"))
    assert code == 9
    assert "names no digest" in line


def test_a_signed_digest_passes_and_the_deploy_goes_on_to_the_cluster(registry, signed, key_pair):
    code, line = deployctl(registry, "--image", signed, "--verify-key",
                           str(key_pair / "cosign.pub"))  # fmt: skip
    # Verified: the next thing it needs is a cluster, and there is none here.
    assert code == 3, line
