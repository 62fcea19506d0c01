"""The helm command lines deployctl runs, and what happens when helm is missing."""

from pathlib import Path

import pytest
from deployctl.errors import DeployError, ExitCode
from deployctl.helm import Helm
from deployctl.release import Release

STAGING = Release.for_env("staging")


def helm(kubeconfig=None) -> Helm:
    return Helm(Path("/bin/helm"), STAGING, "ctx", kubeconfig, timeout_s=240)


def test_upgrade_is_atomic_waits_and_pins_the_namespace_and_context():
    args = helm().upgrade_args((Path("/s/secrets.yaml"),), "0.10", dry_run=False)
    assert args[:4] == ["upgrade", "--install", "items-api", str(STAGING.chart)]
    joined = " ".join(args)
    assert "--namespace items-api-staging --kube-context ctx" in joined
    assert f"--values {STAGING.values_file} --values /s/secrets.yaml" in joined
    # A string, or helm's --set would read the tag 0.10 as the number 0.1.
    assert "--set-string image.tag=0.10" in joined
    assert "--atomic --wait --timeout 240s" in joined
    assert "--kubeconfig" not in joined


def test_dry_run_renders_against_the_server_and_changes_nothing():
    args = helm().upgrade_args((), None, dry_run=True)
    assert "--dry-run=server" in args
    assert "--atomic" not in args
    assert not any(a.startswith("image.tag") for a in args)


def test_an_explicit_kubeconfig_is_passed_on():
    assert helm("/k/config").status_args()[-4:-2] == ["--kubeconfig", "/k/config"]


def test_rollback_to_previous_or_given_revision_and_uninstall_wait():
    assert helm().rollback_args(None)[:2] == ["rollback", "items-api"]
    assert helm().rollback_args(3)[:3] == ["rollback", "items-api", "3"]
    assert "--wait" in helm().rollback_args(None)
    assert "--wait" in helm().uninstall_args()


def test_a_missing_helm_binary_says_make_tools():
    missing = Helm(Path("/nonexistent/helm"), STAGING, "ctx", None, 60)
    with pytest.raises(DeployError) as caught:
        missing.run(missing.status_args())
    assert caught.value.code == ExitCode.MISSING_TOOL
    assert "make tools" in str(caught.value)
