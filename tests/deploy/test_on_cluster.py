"""The deploy tool's error paths against the project's real API server (make cluster-up);
skipped with the reason when that cluster's kubeconfig does not exist."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from deployctl.errors import ExitCode
from deployctl.release import Release
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from harness.wait import eventually

from .conftest import run_deployctl

pytestmark = [pytest.mark.cluster, pytest.mark.slow]

STAGING = Release.for_env("staging")
DEV = Release.for_env("dev")


@pytest.fixture
def core(project_kubeconfig: Path) -> client.CoreV1Api:
    return client.CoreV1Api(config.new_client_from_config(str(project_kubeconfig)))


def namespace_exists(core: client.CoreV1Api, name: str) -> bool:
    try:
        core.read_namespace(name)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def skip_if_in_use(core: client.CoreV1Api, namespace: str) -> None:
    if namespace_exists(core, namespace):
        pytest.skip(f"namespace {namespace} exists on the project cluster; left alone")


def delete_namespace(core: client.CoreV1Api, namespace: str) -> None:
    core.delete_namespace(namespace)
    # The next test expects it gone, and namespace deletion finishes in the background.
    eventually(
        lambda: not namespace_exists(core, namespace),
        f"namespace {namespace} deleted",
        timeout=120,
        every=0.5,
    )


@pytest.fixture
def no_staging_namespace(core: client.CoreV1Api) -> None:
    skip_if_in_use(core, STAGING.namespace)


@pytest.fixture
def empty_staging_namespace(core: client.CoreV1Api, no_staging_namespace) -> Iterator[str]:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=STAGING.namespace)))
    yield STAGING.namespace
    delete_namespace(core, STAGING.namespace)


@pytest.fixture
def fresh_dev_namespace(core: client.CoreV1Api) -> Iterator[str]:
    """The dev namespace, absent before the test (deployctl creates it) and deleted after."""
    skip_if_in_use(core, DEV.namespace)
    yield DEV.namespace
    if namespace_exists(core, DEV.namespace):
        delete_namespace(core, DEV.namespace)


def deployctl(kubeconfig: Path, tmp_path: Path, *args: str):
    return run_deployctl("--kubeconfig", str(kubeconfig), *args, home=tmp_path)


def test_staging_namespace_is_never_created_by_a_deploy(
    project_kubeconfig, no_staging_namespace, core, tmp_path
):
    result = deployctl(project_kubeconfig, tmp_path, "-e", "staging", "deploy", "--image-tag", "t")
    assert result.returncode == ExitCode.PREFLIGHT, result.stderr
    assert "namespace items-api-staging does not exist" in result.stderr
    assert not namespace_exists(core, STAGING.namespace)


def test_missing_existing_secret_is_named_with_the_command_to_create_it(
    project_kubeconfig, empty_staging_namespace, tmp_path
):
    result = deployctl(project_kubeconfig, tmp_path, "-e", "staging", "deploy", "--image-tag", "t")
    assert result.returncode == ExitCode.PREFLIGHT, result.stderr
    assert "Secret items-api-secrets (secrets.existingSecret) does not exist" in result.stderr
    assert "kubectl -n items-api-staging create secret generic items-api-secrets" in result.stderr


def test_status_of_a_release_never_installed(project_kubeconfig, empty_staging_namespace, tmp_path):
    result = deployctl(project_kubeconfig, tmp_path, "-e", "staging", "status")
    assert result.returncode == ExitCode.PREFLIGHT, result.stderr
    assert "no release items-api in namespace items-api-staging" in result.stderr
    assert "Traceback" not in result.stderr


def test_preflight_prints_the_context_and_server(
    project_kubeconfig, empty_staging_namespace, tmp_path
):
    result = deployctl(project_kubeconfig, tmp_path, "-e", "staging", "status")
    context_line = next(line for line in result.stderr.splitlines() if line.startswith("context"))
    assert "Kubernetes v1." in context_line
    assert "from --kubeconfig" in context_line


def test_a_first_install_that_never_gets_ready_is_removed_and_explained(
    project_kubeconfig, fresh_dev_namespace, tmp_path
):
    # No such image anywhere (no registry here): the pods never start, whatever the cluster.
    result = deployctl(
        project_kubeconfig, tmp_path, "-e", "dev", "--timeout", "30", "deploy",
        "--image-tag", "never-built",
    )  # fmt: skip
    assert result.returncode == ExitCode.RELEASE_FAILED, result.stderr
    assert "namespace  items-api-dev created" in result.stderr
    assert "has been uninstalled due to atomic being set" in result.stderr
    assert "the first install was removed again (--atomic)" in result.stderr
    # The failing pods' diagnosis, sampled before --atomic deleted them.
    assert "pod items-api-" in result.stderr
    assert "events:" in result.stderr
    status = deployctl(project_kubeconfig, tmp_path, "-e", "dev", "status")
    assert "no release items-api in namespace items-api-dev" in status.stderr
