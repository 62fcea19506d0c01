"""Preflight decisions: kubeconfig lookup, context choice, namespace, Secret, image tag."""

import pytest
from deployctl.errors import DeployError, ExitCode
from deployctl.kube import KubeconfigSource, choose_context, kubeconfig_source, read_contexts
from deployctl.preflight import check_image, namespace_action, secret_status
from deployctl.release import Release
from deployctl.values import Image, Rendered

from .conftest import write_kubeconfig

DEV, STAGING, PRODUCTION = (Release.for_env(e) for e in ("dev", "staging", "production"))


def error_of(call, *args) -> DeployError:
    with pytest.raises(DeployError) as caught:
        call(*args)
    return caught.value


def test_kubeconfig_lookup_follows_kubectl(tmp_path):
    listed = f"{tmp_path}/a:{tmp_path}/b"
    explicit = kubeconfig_source("/k/config", {"KUBECONFIG": listed})
    assert explicit == KubeconfigSource("/k/config", "--kubeconfig")
    assert kubeconfig_source(None, {"KUBECONFIG": listed}) == KubeconfigSource(listed, "KUBECONFIG")
    assert kubeconfig_source(None, {}).origin == "~/.kube/config"


def test_no_kubeconfig_at_all_says_how_to_point_at_a_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    error = error_of(read_contexts, kubeconfig_source(None, {}))
    assert error.code == ExitCode.NO_CLUSTER
    assert "\n" not in str(error)
    assert "KUBECONFIG" in str(error)
    assert "make cluster-up" in str(error)


def test_kubeconfig_naming_missing_files_names_them():
    error = error_of(read_contexts, kubeconfig_source(None, {"KUBECONFIG": "/nope/config"}))
    assert error.code == ExitCode.NO_CLUSTER
    assert "KUBECONFIG=/nope/config names no existing file" in str(error)


def test_contexts_merge_across_files_first_wins(tmp_path):
    a = write_kubeconfig(tmp_path / "a", "https://x", contexts=("one",), current=None)
    b = write_kubeconfig(tmp_path / "b", "https://y", contexts=("two", "one"), current="two")
    c = write_kubeconfig(tmp_path / "c", "https://z", contexts=("three",), current="three")
    listed = KubeconfigSource(f"{tmp_path}/gone:{a}:{b}:{c}", "KUBECONFIG")
    assert read_contexts(listed) == (["one", "two", "three"], "two")


@pytest.mark.parametrize("content", ["", "{}\n", "contexts: []\n", "- a list\n", "a: [\n"])
def test_a_kubeconfig_without_usable_contexts_is_no_cluster(tmp_path, content):
    empty = tmp_path / "empty"
    empty.write_text(content)
    error = error_of(read_contexts, KubeconfigSource(str(empty), "KUBECONFIG"))
    assert error.code == ExitCode.NO_CLUSTER
    assert str(empty) in str(error)
    assert "\n" not in str(error)


def test_context_choice():
    policy = DEV.policy
    assert choose_context(["a", "b"], "a", None, policy, "dev") == "a"
    assert choose_context(["a", "b"], "a", "b", policy, "dev") == "b"
    wrong = error_of(choose_context, ["a", "b"], "a", "c", policy, "dev")
    assert wrong.code == ExitCode.PREFLIGHT
    assert "'c' is not in the kubeconfig (available: a, b)" in str(wrong)
    unset = error_of(choose_context, ["a"], None, None, policy, "dev")
    assert "no usable current-context" in str(unset)


def test_production_never_uses_the_current_context_implicitly():
    error = error_of(
        choose_context, ["prod", "kind"], "kind", None, PRODUCTION.policy, "production"
    )
    assert error.code == ExitCode.PREFLIGHT
    assert "current-context (kind)" in str(error)
    assert "KUBE_CONTEXT=" in str(error)
    assert choose_context(["prod"], "kind", "prod", PRODUCTION.policy, "production") == "prod"


@pytest.mark.parametrize(
    ("release", "image", "refused"),
    [
        (PRODUCTION, Image("r:latest", "latest", ""), True),
        (PRODUCTION, Image("r@sha256:ab", "latest", "sha256:ab"), False),
        (PRODUCTION, Image("r:0.1.0-abc", "0.1.0-abc", ""), False),
        (STAGING, Image("r:latest", "latest", ""), False),
        (DEV, Image("r:latest", "latest", ""), False),
    ],
)
def test_latest_is_refused_in_production_only(release, image, refused):
    if refused:
        error = error_of(check_image, release, image)
        assert error.code == ExitCode.PREFLIGHT
        assert "IMAGE_TAG=" in str(error)
    else:
        check_image(release, image)


def test_namespace_policy():
    assert namespace_action(STAGING, exists=True) == "exists"
    assert namespace_action(DEV, exists=False) == "create"
    error = error_of(namespace_action, STAGING, False)
    assert error.code == ExitCode.PREFLIGHT
    assert "namespace items-api-staging does not exist" in str(error)
    assert "kubectl create namespace items-api-staging" in str(error)


EXISTING = Rendered(Image("r:t", "t", ""), "items-api-secrets", secret_in_chart=False)


def test_an_existing_secret_with_both_keys_passes():
    keys = {"DATABASE_URL", "JWT_SECRET"}
    assert "items-api-secrets has" in secret_status(STAGING, EXISTING, keys, True)


def test_a_missing_secret_says_how_to_create_it():
    error = error_of(secret_status, STAGING, EXISTING, None, True)
    assert error.code == ExitCode.PREFLIGHT
    assert "Secret items-api-secrets (secrets.existingSecret) does not exist" in str(error)
    assert "kubectl -n items-api-staging create secret generic items-api-secrets" in str(error)
    assert "--from-literal=JWT_SECRET=..." in str(error)


def test_a_secret_missing_a_key_names_the_key():
    error = error_of(secret_status, STAGING, EXISTING, {"DATABASE_URL"}, True)
    assert "lacks JWT_SECRET" in str(error)


def test_a_secret_the_chart_creates_needs_no_cluster_check():
    own = Rendered(Image("r:t", "t", ""), "items-api", secret_in_chart=True)
    assert "creates the Secret" in secret_status(STAGING, own, None, True)
