"""`terraform apply`, then `terraform destroy`, of modules/aws-platform against moto.

moto is an AWS API emulator: a real server process on a loopback port that keeps every
VPC, role, key, cluster and database in memory. The AWS provider talks to it through
its endpoints; the credentials are fake and the state is a throwaway directory. Where
moto lacks a feature the apply fails on exactly that resource: MOTO_GAPS names each gap
and the error it gives, and the test expects exactly those (the module is not bent to
suit the emulator).

TF_PROVIDER_MIRROR (a Terraform filesystem mirror, set by mk/terraform.mk when this
machine has one) supplies the AWS provider; without it `init` takes the newest version
the module allows from the registry, which is what ci.yml does.
"""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.net import free_port, wait_for_http
from tests.terraform.hcl import TERRAFORM
from tests.terraform.scratch import TF

pytestmark = pytest.mark.slow

PLATFORM = TERRAFORM / "modules" / "aws-platform"
REGION = "eu-west-1"
# Every AWS service the module calls.
SERVICES = ["ec2", "ecr", "eks", "iam", "kms", "logs", "rds", "secretsmanager", "sts"]

# Resource address -> the error moto gives. Each is a missing emulator feature, not a
# fault of the module: on AWS these calls succeed.
MOTO_GAPS = {
    # moto's CreateCluster returns no vpcConfig.clusterSecurityGroupId (AWS makes one).
    "module.platform.aws_vpc_security_group_ingress_rule.database_from_cluster": (
        "InvalidGroup.NotFound: The security group '' does not exist"
    ),
    # moto's EKS has no access entry API (CreateAccessEntry answers 404).
    "module.platform.aws_eks_access_entry.github_deploy[0]": (
        "operation error EKS: CreateAccessEntry, https response error StatusCode: 404"
    ),
    # moto's EKS has no add-on API (CreateAddon answers 404).
    "module.platform.aws_eks_addon.pod_identity_agent": (
        "operation error EKS: CreateAddon, https response error StatusCode: 404"
    ),
}
# Resources that wait for a gap's resource, so the apply never starts them.
BLOCKED_BY_GAPS = {
    "module.platform.aws_eks_access_policy_association.github_deploy[0]",
    'module.platform.aws_eks_addon.this["aws-ebs-csi-driver"]',
    'module.platform.aws_eks_addon.this["metrics-server"]',
}

MAIN_TF = """
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

provider "aws" {{
  region                      = "{region}"
  access_key                  = "moto-fake-access-key"
  secret_key                  = "moto-fake-secret-key" # pragma: allowlist secret (moto's)
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  endpoints {{
{endpoints}
  }}
}}

module "platform" {{
  source = "{module}"

  name                                 = "items-api"
  availability_zones                   = ["{region}a", "{region}b"]
  cluster_endpoint_public_access_cidrs = ["203.0.113.0/24"]
  deletion_protection                  = false
  app_capacity                         = {{ pod_cpu_millicores = 1000, min_pods = 4, max_pods = 9 }}
  github_deploy                        = {{ repository = "example/items-api" }}
  node_group                           = {node_group}
}}
"""


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory):
    port = free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        # AWS-managed policies (AmazonEKSClusterPolicy, ...) exist in every real account;
        # moto loads them only when asked.
        env={**os.environ, "MOTO_IAM_LOAD_MANAGED_POLICIES": "true"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/moto-api/", timeout=60, process=server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


class Root:
    def __init__(self, workdir: Path, moto_url: str, node_group: str = "{}"):
        self.workdir = workdir
        endpoints = "\n".join(f'    {service} = "{moto_url}"' for service in SERVICES)
        (workdir / "main.tf").write_text(
            MAIN_TF.format(
                region=REGION, endpoints=endpoints, module=PLATFORM, node_group=node_group
            )
        )
        mirror = os.environ.get("TF_PROVIDER_MIRROR")
        (workdir / "cli.tfrc").write_text(
            f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
            if mirror
            else ""
        )
        self.env = {
            **os.environ,
            "TF_CLI_CONFIG_FILE": str(workdir / "cli.tfrc"),
            # Nothing of the caller's AWS setup may reach a real account.
            "AWS_PROFILE": "",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        }

    def run(self, *args: str, timeout: float = 1200) -> subprocess.CompletedProcess:
        return subprocess.run(
            [TF, *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def managed(self) -> set[str]:
        done = self.run("show", "-json")
        assert done.returncode == 0, done.stderr
        state = json.loads(done.stdout).get("values") or {}
        found = set()

        def walk(module: dict) -> None:
            for resource in module.get("resources", []):
                if resource["mode"] == "managed":
                    found.add(resource["address"])
            for child in module.get("child_modules", []):
                walk(child)

        walk(state.get("root_module") or {})
        return found


def failed_resources(output: str) -> dict[str, str]:
    """{address: error text} for every `Error:` block of an apply."""
    failures = {}
    for block in output.split("Error: ")[1:]:
        address = re.search(r"^\s+with (\S+),$", block, re.MULTILINE)
        assert address, f"an error that names no resource:\n{block}"
        failures[address.group(1)] = " ".join(block.split())
    return failures


@pytest.mark.timeout(1800)
def test_platform_applies_and_destroys_against_moto(tmp_path, moto_url, capsys):
    root = Root(tmp_path, moto_url)
    init = root.run("init", "-input=false", timeout=300)
    assert init.returncode == 0, init.stdout + init.stderr

    assert root.run("plan", "-input=false", "-out=plan").returncode == 0
    planned = json.loads(root.run("show", "-json", "plan").stdout)["resource_changes"]
    planned = {change["address"] for change in planned if change["mode"] == "managed"}
    assert set(MOTO_GAPS) | BLOCKED_BY_GAPS <= planned

    started = time.monotonic()
    apply = root.run("apply", "-input=false", "plan")
    apply_s = time.monotonic() - started
    output = apply.stdout + apply.stderr
    failures = failed_resources(output)
    # Every failure is a known emulator gap, with the error that gap gives.
    assert set(failures) == set(MOTO_GAPS), output[-4000:]
    for address, error in MOTO_GAPS.items():
        assert error in failures[address], failures[address]

    created = root.managed()
    assert planned - created == set(MOTO_GAPS) | BLOCKED_BY_GAPS

    started = time.monotonic()
    destroy = root.run("destroy", "-auto-approve", "-input=false")
    destroy_s = time.monotonic() - started
    assert destroy.returncode == 0, (destroy.stdout + destroy.stderr)[-4000:]
    assert root.managed() == set()

    version = json.loads(root.run("version", "-json").stdout)["provider_selections"]
    with capsys.disabled():
        print(
            f"\nterraform apply of modules/aws-platform against moto "
            f"(aws provider {version['registry.terraform.io/hashicorp/aws']}): "
            f"{len(created)} of {len(planned)} resources created in {apply_s:.0f}s, "
            f"{len(MOTO_GAPS)} refused by moto gaps, {len(BLOCKED_BY_GAPS)} waiting on them; "
            f"destroy {destroy_s:.0f}s"
        )


@pytest.mark.timeout(900)
def test_nodes_too_small_for_a_rollout_at_the_hpa_minimum_fail_the_plan(tmp_path, moto_url):
    """Two 2-vCPU nodes hold one 1-CPU pod each after kubelet's reserve and the system
    pods: production's 3 pods plus the rollout's surge pod do not fit, and the plan says
    so (moto answers DescribeInstanceTypes as AWS does)."""
    root = Root(
        tmp_path, moto_url, '{ instance_types = ["m7i.large"], min_size = 2, desired_size = 2 }'
    )
    assert root.run("init", "-input=false", timeout=300).returncode == 0
    plan = root.run("plan", "-input=false")
    assert plan.returncode != 0
    assert (
        "node_group: 2 x 2-vCPU nodes hold 2 pods of 1000m CPU, fewer than "
        "app_capacity.min_pods = 4" in " ".join((plan.stdout + plan.stderr).split())
    ), plan.stdout + plan.stderr
