"""The AWS platform module refuses unsafe or impossible inputs at plan time."""

import pytest

from tests.terraform.hcl import TERRAFORM
from tests.terraform.scratch import ScratchRoot

pytestmark = pytest.mark.slow

BASE = {
    "name": "items-api",
    "availability_zones": ["eu-west-1a", "eu-west-1b"],
    "app_capacity": {"pod_cpu_millicores": 1000, "min_pods": 4, "max_pods": 9},
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> ScratchRoot:
    return ScratchRoot(
        tmp_path_factory.mktemp("aws-platform"),
        TERRAFORM / "modules" / "aws-platform",
        ["variables.tf"],
        {"database": "var.database", "node_group": "var.node_group"},
    )


def test_defaults_are_multi_az_backed_up_and_private(platform):
    database = platform.output(BASE, "database")
    assert database["multi_az"] is True
    assert database["backup_retention_days"] >= 7
    assert platform.output(BASE, "node_group")["min_size"] >= 2


@pytest.mark.parametrize(
    ("override", "variable"),
    [
        ({"availability_zones": ["eu-west-1a"]}, "availability_zones"),
        (
            {"cluster_endpoint_public_access_cidrs": ["0.0.0.0/0"]},
            "cluster_endpoint_public_access_cidrs",
        ),
        ({"database": {"backup_retention_days": 1}}, "database"),
        ({"database": {"engine_version": "13"}}, "database"),
        ({"node_group": {"min_size": 3, "desired_size": 2}}, "node_group"),
        (
            {"cluster_endpoint_public_access_cidrs": [f"198.51.100.{i}/32" for i in range(41)]},
            "cluster_endpoint_public_access_cidrs",
        ),
        (
            {"app_capacity": {"pod_cpu_millicores": 1000, "min_pods": 4, "max_pods": 3}},
            "app_capacity",
        ),
        ({"ecr_repository_name": "Items API"}, "ecr_repository_name"),
        ({"log_retention_days": 30}, "log_retention_days"),
        ({"vpc_cidr": "10.0.0.0/24"}, "vpc_cidr"),
        ({"name": "Items_API"}, "name"),
        ({"github_deploy": {"repository": "not-a-repository"}}, "github_deploy"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_unsafe_inputs_fail_validation(platform, override, variable):
    errors = platform.plan_errors({**BASE, **override})
    assert "Invalid value for variable" in errors, errors or "plan succeeded"
    assert f"var.{variable}" in errors
