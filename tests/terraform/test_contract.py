"""The Terraform's interface contract, read from the HCL, and each root loaded by Terraform
itself (no providers needed)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.terraform.hcl import (
    META_ARGUMENTS,
    MODULES,
    ROOT,
    ROOT_MODULES,
    TERRAFORM,
    load_dir,
    named,
    object_attributes,
    outputs,
    resources,
    unquote,
    variables,
)
from tests.terraform.scratch import TF

ALL_DIRS = MODULES + ROOT_MODULES
# Names that hold credentials; *_name / *_arn only point at them.
SECRET_NAME = re.compile(r"(password|secret|token|private_key|database_url)$")


def _id(path: Path) -> str:
    return str(path.relative_to(TERRAFORM))


def _module_calls(directory: Path) -> dict[str, dict]:
    return named(load_dir(directory).get("module", []))


@pytest.mark.parametrize("directory", ALL_DIRS, ids=_id)
def test_standard_layout(directory):
    expected = {"versions.tf", "variables.tf", "outputs.tf", "main.tf"}
    if directory in MODULES:
        expected.add("README.md")
    assert expected <= {p.name for p in directory.iterdir()}


@pytest.mark.parametrize("directory", ALL_DIRS, ids=_id)
def test_every_variable_is_described_and_typed(directory):
    for name, body in variables(directory).items():
        assert unquote(body.get("description", "")).strip(), f"variable {name} has no description"
        assert "type" in body, f"variable {name} has no type"


@pytest.mark.parametrize("directory", ALL_DIRS, ids=_id)
def test_every_output_is_described(directory):
    for name, body in outputs(directory).items():
        assert unquote(body.get("description", "")).strip(), f"output {name} has no description"


@pytest.mark.parametrize("directory", ALL_DIRS, ids=_id)
def test_credentials_are_sensitive(directory):
    for name, body in variables(directory).items():
        if SECRET_NAME.search(name):
            assert body.get("sensitive") is True, f"variable {name} holds a credential"


@pytest.mark.parametrize("directory", ALL_DIRS, ids=_id)
def test_providers_are_official_and_pinned(directory):
    (terraform,) = load_dir(directory)["terraform"]
    assert "required_version" in terraform
    providers = {k: v for block in terraform["required_providers"] for k, v in block.items()}
    assert providers
    for name, spec in providers.items():
        if name.startswith("__"):
            continue
        assert unquote(spec["source"]) == f"hashicorp/{name}", name
        # aws: 5.100 (the newest this machine's mirror holds) through the current 6.x.
        expected = ">= 5.100, < 7.0" if name == "aws" else "~> 3.0"
        assert unquote(spec["version"]) == expected, f"{name} needs the version range {expected}"


@pytest.mark.parametrize("directory", ROOT_MODULES, ids=_id)
def test_module_calls_use_only_inputs_that_exist(directory):
    calls = _module_calls(directory)
    assert calls
    for call, arguments in calls.items():
        target = (directory / unquote(arguments["source"])).resolve()
        declared = variables(target)
        given = {k for k in arguments if k not in META_ARGUMENTS and not k.startswith("__")}
        assert given <= declared.keys(), f"module {call}: unknown inputs {given - declared.keys()}"
        required = {name for name, body in declared.items() if "default" not in body}
        assert required <= given, f"module {call}: missing required inputs {required - given}"
        for name in given:
            attributes = object_attributes(declared[name]["type"])
            if attributes is not None and isinstance(arguments[name], dict):
                unknown = {k for k in arguments[name] if not k.startswith("__")} - attributes
                assert not unknown, f"module {call}: {name} has no attributes {unknown}"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_environments_keep_state_in_a_locked_remote_backend(environment):
    directory = TERRAFORM / "environments" / environment
    (terraform,) = load_dir(directory)["terraform"]
    assert [next(iter(b)) for b in terraform["backend"]] == ['"s3"']
    example = (directory / "backend.hcl.example").read_text()
    settings = dict(re.findall(r"^(\w+)\s*=\s*(.+)$", example, re.MULTILINE))
    assert {"bucket", "key", "region", "encrypt", "use_lockfile"} <= settings.keys()
    assert environment in settings["key"]
    assert settings["encrypt"] == settings["use_lockfile"] == "true"


def test_production_is_stricter_than_staging():
    staging = _module_calls(TERRAFORM / "environments" / "staging")["app"]
    production = _module_calls(TERRAFORM / "environments" / "production")["app"]
    assert unquote(production["environment"]) == "production"
    assert unquote(production["deploy_environment"]) == "production"
    assert unquote(staging["deploy_environment"]) == "staging"
    # The image is the digest staging tested.
    assert "digest" in production["image"]
    assert "tag" not in production["image"]
    # Production's credentials and database subnets come from the platform, not from inputs.
    assert production["database_url"].startswith("${local.app_secret.")
    assert production["database_cidrs"] == "${local.platform.private_subnet_cidrs}"


def test_app_module_installs_the_local_chart():
    (release,) = resources(TERRAFORM / "modules" / "app")["helm_release"].values()
    relative = re.search(r'\$\{path\.module\}/([^"]+)"', release["chart"]).group(1)
    chart = (TERRAFORM / "modules" / "app" / relative).resolve()
    assert chart == ROOT / "helm" / "items-api"
    assert "name: items-api" in (chart / "Chart.yaml").read_text()


def test_platform_module_protects_and_encrypts_its_data():
    by_type = resources(TERRAFORM / "modules" / "aws-platform")
    (database,) = by_type["aws_db_instance"].values()
    assert database["deletion_protection"] == "${var.deletion_protection}"
    assert (
        variables(TERRAFORM / "modules" / "aws-platform")["deletion_protection"]["default"] is True
    )
    assert database["storage_encrypted"] is True
    assert database["publicly_accessible"] is False
    assert database["manage_master_user_password"] is True
    assert database["skip_final_snapshot"] is False
    (cluster,) = by_type["aws_eks_cluster"].values()
    assert cluster["encryption_config"][0]["resources"] == ['"secrets"']
    (key,) = by_type["aws_kms_key"].values()
    assert key["enable_key_rotation"] is True
    assert all("kms_key_id" in group for group in by_type["aws_cloudwatch_log_group"].values())


@pytest.mark.parametrize("directory", ROOT_MODULES, ids=_id)
def test_root_loads_in_terraform(directory, tmp_path):
    """Terraform reads the root and every module it calls (duplicate names, bad block
    structure, module calls): `get`, then `providers lock` from an empty mirror, which
    loads the whole configuration before it looks for any provider. Only that last step
    may fail. validate, which needs the providers, runs in ci.yml."""
    shutil.copytree(TERRAFORM, tmp_path / "terraform", ignore=shutil.ignore_patterns(".terraform*"))
    (tmp_path / "empty").mkdir()
    (tmp_path / "cli.tfrc").write_text("")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(tmp_path / "cli.tfrc")}
    root = tmp_path / directory.relative_to(ROOT)

    def run(*args):
        return subprocess.run(
            [TF, f"-chdir={root}", *args, "-no-color"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    got = run("get")
    assert got.returncode == 0, got.stdout + got.stderr
    lock = run("providers", "lock", f"-fs-mirror={tmp_path / 'empty'}", "-platform=linux_amd64")
    errors = set(re.findall(r"Error: (.+)", lock.stdout + lock.stderr))
    assert errors == {"Could not retrieve providers for locking"}, lock.stdout + lock.stderr
