"""Deploying by digest, apart from cosign: which references are accepted and what helm gets."""

import pytest
from deployctl.errors import DeployError, ExitCode
from deployctl.helm import Helm
from deployctl.release import DEFAULT_HELM, Release
from deployctl.signature import parse_image_ref

DIGEST = "sha256:" + "ab" * 32


def test_a_reference_by_digest_is_split_the_way_the_chart_values_want_it():
    image = parse_image_ref(f"ghcr.io/owner/items-api@{DIGEST}")
    assert (image.registry, image.repository, image.digest) == (
        "ghcr.io",
        "owner/items-api",
        DIGEST,
    )
    assert image.reference == f"ghcr.io/owner/items-api@{DIGEST}"


@pytest.mark.parametrize(
    "reference",
    ["10.200.0.1:5443/items-api:0.1.0", "10.200.0.1:5443/items-api@sha256:short", "items-api"],
)
def test_a_reference_without_a_full_digest_is_refused(reference):
    with pytest.raises(DeployError) as refused:
        parse_image_ref(reference)
    assert refused.value.code == ExitCode.UNTRUSTED_IMAGE


def test_helm_gets_the_published_chart_at_its_version_and_the_image_by_digest():
    release = Release.for_env("e2e", "oci://10.200.0.1:5443/charts/items-api", "0.1.0")
    image = parse_image_ref(f"10.200.0.1:5443/items-api@{DIGEST}")
    helm = Helm(DEFAULT_HELM, release, None, None, 60, image)
    args = helm.upgrade_args((), None)
    assert args[2:6] == [
        "items-api",
        "oci://10.200.0.1:5443/charts/items-api",
        "--version",
        "0.1.0",
    ]
    assert "image.digest=" + DIGEST in args
    assert "image.registry=10.200.0.1:5443" in args
