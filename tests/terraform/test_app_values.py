"""The app module's inputs against the chart's values.schema.json.

Terraform evaluates the module's variables.tf and values.tf (the inputs -> chart values
mapping) in a root module with no providers, which runs offline. Values the module
produces must pass the chart's schema; every input the schema would refuse must be
refused by a validation block at plan time first.
"""

import copy
import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.terraform.hcl import ROOT, TERRAFORM, load_dir, named, unquote
from tests.terraform.scratch import ScratchRoot

pytestmark = pytest.mark.slow

APP = TERRAFORM / "modules" / "app"
CHART = ROOT / "helm" / "items-api"

BASE_INPUTS = {
    # The scratch copy of the module has no repository around it.
    "deploy_dir": str(ROOT / "deploy"),
    "namespace": "items-api",
    "environment": "staging",
    "image": {"repository": "example/items-api", "tag": "0.1.0-abc1234"},
    "existing_secret_name": "items-api-secrets",
}


class Module(ScratchRoot):
    """The app module's variables and its inputs -> chart values mapping."""

    def __init__(self, workdir: Path):
        super().__init__(
            workdir,
            APP,
            ["variables.tf", "values.tf"],
            {
                "chart_values": "local.chart_values",
                "release": "[local.release_name, local.namespace, local.secret_name]",
                "release_values": "[for document in local.release_values : yamldecode(document)]",
            },
        )

    def chart_values(self, inputs: dict) -> dict:
        return self.output(inputs, "chart_values")


@pytest.fixture(scope="module")
def module(tmp_path_factory) -> Module:
    return Module(tmp_path_factory.mktemp("app-module"))


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads((CHART / "values.schema.json").read_text())


def helm_merged_over(base, override):
    """Helm's merge of one values document over another: maps key by key."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: helm_merged_over(base.get(k), v) for k, v in override.items()}}
    return copy.deepcopy(override)


def helm_merged(values: dict) -> dict:
    """What Helm validates: the chart's values.yaml with the release's values over it."""
    return helm_merged_over(yaml.safe_load((CHART / "values.yaml").read_text()), values)


def schema_errors(schema: dict, values: dict) -> list[str]:
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [error.message for error in validator.iter_errors(helm_merged(values))]


def with_path(values: dict, path: str, value) -> dict:
    """A copy of values with a dotted path ('ingress.hosts.0.host') set."""
    result = copy.deepcopy(values)
    *parents, last = path.split(".")
    node = result
    for key in parents:
        node = node[int(key)] if key.isdigit() else node[key]
    node[int(last) if last.isdigit() else last] = value
    return result


def merged_inputs(**overrides) -> dict:
    inputs = copy.deepcopy(BASE_INPUTS)
    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(inputs.get(name), dict):
            inputs[name] = {**inputs[name], **value}
        else:
            inputs[name] = value
    return inputs


def test_default_inputs_give_values_the_chart_accepts(module, schema):
    values = module.chart_values(BASE_INPUTS)
    assert schema_errors(schema, values) == []
    assert values["secrets"] == {"existingSecret": "items-api-secrets"}
    assert values["fullnameOverride"] == "items-api"


def test_every_input_set_gives_values_the_chart_accepts(module, schema):
    inputs = merged_inputs(
        environment="production",
        image={"digest": "sha256:" + "ab" * 32, "tag": "", "pull_policy": "Always"},
        config={"log_level": "WARNING", "cors_origins": ["https://app.example.com"]},
        workers={"per_cpu": 1.5, "max": 4, "web_concurrency": 0},
        database_pool={"pool_size": 3, "max_overflow": 2, "max_connections": 200},
        replicas=3,
        resources={
            "requests": {"cpu": "500m", "memory": "512Mi"},
            "limits": {"cpu": "2", "memory": "1Gi"},
        },
        autoscaling={"enabled": True, "min_replicas": 3, "max_replicas": 8},
        ingress={"enabled": True, "host": "items.example.com", "tls_secret_name": "items-tls"},
        database_cidrs=["10.40.0.0/20"],
    )
    values = module.chart_values(inputs)
    assert schema_errors(schema, values) == []
    assert values["ingress"]["tls"] == [{"secretName": "items-tls", "hosts": ["items.example.com"]}]
    assert values["resources"]["limits"] == {"cpu": "2", "memory": "1Gi"}


# What Terraform knows and `make deploy` does not (or takes from its command line).
TERRAFORM_ONLY = {
    ("image",): "the environment's image input; make deploy takes IMAGE_TAG",
    ("networkPolicy", "database", "cidrs"): "the platform's database subnets",
    # The module pins object names to the release name; the chart gives a release whose
    # name contains the chart's (items-api) that same name, so the objects match.
    ("fullnameOverride",): "object names: equal for the release deploy/environments.yaml names",
}


def _without(values: dict, paths) -> dict:
    result = copy.deepcopy(values)
    for path in paths:
        node = result
        for key in path[:-1]:
            node = node.get(key, {})
        node.pop(path[-1], None)
    return result


def _terraform_environment_inputs(environment: str) -> dict:
    """The app module's inputs as terraform/environments/<environment> gives them, with
    sample values where it passes a variable or a platform output."""
    arguments = named(load_dir(TERRAFORM / "environments" / environment)["module"])["app"]
    inputs = {"deploy_dir": str(ROOT / "deploy")}
    for name in ("deploy_environment", "environment"):
        inputs[name] = unquote(arguments[name])
    inputs["image"] = {"repository": "example/items-api", "tag": "0.1.0-abc1234"}
    inputs["database_url"] = (
        "postgresql+asyncpg://items_app:pw@db:5432/items"  # pragma: allowlist secret
    )
    inputs["jwt_secret"] = "x" * 64
    inputs["database_cidrs"] = ["10.40.0.0/20"]
    return inputs


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_terraform_and_make_deploy_install_the_same_release(module, schema, environment):
    from deployctl.release import Release

    inputs = _terraform_environment_inputs(environment)
    name, namespace, secret = module.output(inputs, "release")
    release = Release.for_env(environment)
    assert (name, namespace) == (release.name, release.namespace)

    terraform_values = helm_merged({})
    for document in module.output(inputs, "release_values"):
        terraform_values = helm_merged_over(terraform_values, document)
    # make deploy hands helm the environment's values file over the chart's defaults.
    deploy_values = helm_merged(yaml.safe_load(release.values_file.read_text()))
    assert schema_errors(schema, terraform_values) == []
    # The Secret the module creates is the one the chart reads.
    assert terraform_values["secrets"]["existingSecret"] == secret
    assert _without(terraform_values, TERRAFORM_ONLY) == _without(deploy_values, TERRAFORM_ONLY)
    assert terraform_values["config"]["environment"] == environment


# (module input, its bad value) <-> (chart values path, what the module would put there)
REFUSED = [
    ({"environment": "prod"}, "config.environment", "prod"),
    ({"release_name": "x" * 64}, "fullnameOverride", "x" * 64),
    ({"image": {"repository": ""}}, "image.repository", ""),
    ({"image": {"tag": "v1 beta"}}, "image.tag", "v1 beta"),
    ({"image": {"digest": "sha256:abc"}}, "image.digest", "sha256:abc"),
    ({"image": {"pull_policy": "Sometimes"}}, "image.pullPolicy", "Sometimes"),
    ({"config": {"log_level": "VERBOSE"}}, "config.logLevel", "VERBOSE"),
    ({"config": {"access_token_expire_minutes": 0}}, "config.accessTokenExpireMinutes", 0),
    ({"workers": {"per_cpu": 0}}, "workers.perCpu", 0),
    ({"workers": {"max": 0}}, "workers.max", 0),
    ({"workers": {"web_concurrency": -1}}, "workers.webConcurrency", -1),
    ({"database_pool": {"pool_size": 0}}, "database.poolSize", 0),
    ({"database_pool": {"max_overflow": -1}}, "database.maxOverflow", -1),
    ({"database_pool": {"max_connections": 2.5}}, "database.maxConnections", 2.5),
    ({"replicas": -1}, "replicaCount", -1),
    (
        {
            "resources": {
                "requests": {"cpu": "0m", "memory": "256Mi"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            }
        },
        "resources.requests.cpu",
        "0m",
    ),
    (
        {
            "resources": {
                "requests": {"cpu": "250m", "memory": "lots"},
                "limits": {"cpu": "1", "memory": "512Mi"},
            }
        },
        "resources.requests.memory",
        "lots",
    ),
    ({"autoscaling": {"min_replicas": 0}}, "autoscaling.minReplicas", 0),
    (
        {"autoscaling": {"target_cpu_utilization_percentage": 150}},
        "autoscaling.targetCPUUtilizationPercentage",
        150,
    ),
    ({"ingress": {"host": ""}}, "ingress.hosts.0.host", ""),
]


@pytest.mark.parametrize(
    ("overrides", "chart_path", "chart_value"), REFUSED, ids=[case[1] for case in REFUSED]
)
def test_values_the_chart_refuses_fail_validation_first(
    module, schema, overrides, chart_path, chart_value
):
    accepted = module.chart_values(BASE_INPUTS)
    assert schema_errors(schema, with_path(accepted, chart_path, chart_value)), (
        f"the chart accepts {chart_path}={chart_value!r}; this case tests nothing"
    )
    errors = module.plan_errors(merged_inputs(**overrides))
    assert "Invalid value for variable" in errors, errors or "plan succeeded"
    assert f"var.{next(iter(overrides))}" in errors


def test_latest_is_refused_before_the_chart_refuses_it_in_production(module, schema):
    accepted = module.chart_values(merged_inputs(environment="production"))
    assert schema_errors(schema, with_path(accepted, "image.tag", "latest"))
    errors = module.plan_errors(merged_inputs(environment="production", image={"tag": "latest"}))
    assert 'not "latest"' in errors
