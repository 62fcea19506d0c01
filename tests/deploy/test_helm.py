"""The helm command lines deployctl runs."""

from pathlib import Path

from deployctl.helm import Helm
from deployctl.release import Release

STAGING = Release.for_env("staging")


def helm(kubeconfig=None) -> Helm:
    return Helm(Path("/bin/helm"), STAGING, "ctx", kubeconfig, timeout_s=240)


def test_upgrade_is_atomic_waits_and_pins_the_namespace_and_context():
    args = helm().upgrade_args((Path("/s/secrets.yaml"),), "0.10")
    assert args[:4] == ["upgrade", "--install", "items-api", str(STAGING.chart)]
    joined = " ".join(args)
    assert "--namespace items-api-staging --kube-context ctx" in joined
    assert f"--values {STAGING.values_file} --values /s/secrets.yaml" in joined
    # A string, or helm's --set would read the tag 0.10 as the number 0.1.
    assert "--set-string image.tag=0.10" in joined
    assert "--atomic --wait --timeout 240s" in joined
    assert "--kubeconfig" not in joined


def test_the_diff_is_helm_diffs_against_the_server_with_the_same_values():
    args = helm().diff_args((Path("/s/secrets.yaml"),), "0.10")
    assert args[:4] == ["diff", "upgrade", "items-api", str(STAGING.chart)]
    joined = " ".join(args)
    assert "--install" in args
    assert "--dry-run=server" in args
    assert f"--values {STAGING.values_file} --values /s/secrets.yaml" in joined
    assert "--set-string image.tag=0.10" in joined
    assert "--show-secrets" not in joined


def test_rendering_needs_no_context():
    args = Helm(Path("/bin/helm"), STAGING, None, None, 60).template_args((), None)
    assert args[:3] == ["template", "items-api", str(STAGING.chart)]
    assert "--kube-context" not in args


def test_an_explicit_kubeconfig_is_passed_on():
    assert helm("/k/config").status_args()[-4:-2] == ["--kubeconfig", "/k/config"]


def test_rollback_to_previous_or_given_revision_and_uninstall_wait():
    assert helm().rollback_args(None)[:2] == ["rollback", "items-api"]
    assert helm().rollback_args(3)[:3] == ["rollback", "items-api", "3"]
    assert "--wait" in helm().rollback_args(None)
    assert "--wait" in helm().uninstall_args()
