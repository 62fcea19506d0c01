"""The one place an environment turns into release name, namespace, chart and values."""

import pytest
from deployctl.release import ENVIRONMENTS, Release


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_has_its_values_file_and_namespace(env):
    release = Release.for_env(env)
    assert release.values_file.is_file()
    assert release.namespace == f"items-api-{env}"
    assert (release.chart / "Chart.yaml").is_file()
    assert release.selector == "app.kubernetes.io/instance=items-api"


def test_shared_environments_neither_create_namespaces_nor_accept_latest():
    production = Release.for_env("production").policy
    assert not production.create_namespace
    assert not production.allow_latest_tag
    assert production.require_explicit_context
    assert production.confirm_uninstall
    assert not Release.for_env("staging").policy.create_namespace
    assert Release.for_env("dev").policy.create_namespace
