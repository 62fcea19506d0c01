"""values.schema.json and validateValues refuse bad values before anything reaches a cluster,
with a message that names the key to fix."""

import pytest

from tests.chart.render import SECRETS, env_values, render_error


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--set-string", "replicaCount=two"], "replicaCount"),
        (["--set", "resources.limits.cpu=-1"], "resources/limits/cpu"),
        (["--set-string", "resources.requests.cpu=-250m"], "resources/requests/cpu"),
        (["--set", "replicas=3"], "replicas"),
        (["--set", "service.ports.http=70000"], "service/ports/http"),
        (["--set", "config.environment=prod"], "config/environment"),
        (["--set", "autoscaling.targetCPUUtilizationPercentage=150"], "UtilizationPercentage"),
        (["--set", "image.pullPolicy=Sometimes"], "image/pullPolicy"),
        (["--set", "database.poolSize=0"], "database/poolSize"),
    ],
    ids=["string-replicas", "negative-cpu", "negative-millicpu", "unknown-top-level-key",
         "port-range", "environment-enum", "percentage", "pull-policy", "pool-size"],
)  # fmt: skip
def test_schema_rejects_with_the_key_named(args, named):
    error = render_error(*SECRETS, *args)
    assert "schema" in error
    assert named in error


def test_unknown_nested_key_is_a_typo_not_ignored():
    error = render_error(*SECRETS, "--set", "readinessProbe.periodSecond=5")
    assert "periodSecond" in error


def test_latest_tag_is_refused_with_production_values():
    error = render_error(*env_values("production"), "--set", "image.tag=latest")
    assert "image" in error
    assert "tag" in error


def test_latest_tag_is_fine_outside_production():
    from tests.chart.render import render

    docs = render(*env_values("dev"), "--set", "image.tag=latest")
    assert any(d["kind"] == "Deployment" for d in docs)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ([], "secrets.databaseUrl"),
        (["--set", "secrets.databaseUrl=postgresql+asyncpg://a@b/c"], "secrets.jwtSecret"),
        ([*SECRETS, "--set", "terminationGracePeriodSeconds=30"], "terminationGracePeriodSeconds"),
        ([*SECRETS, "--set", "lifecycle.preStopSleepSeconds=25"], "lifecycle.preStopSleepSeconds"),
        ([*SECRETS, "--set", "secrets.jwtSecret=short"], "at least 32 characters"),
        ([*SECRETS, "--set", "config.debug=true"], "config.debug"),
        ([*SECRETS, "--set", "postgresql.enabled=true", "--set", "postgresql.auth.password=x"],
         "postgresql.enabled is for dev and e2e only"),
        ([*SECRETS, "--set", "workers.webConcurrency=8"], "workers.webConcurrency 8 does not fit"),
        ([*SECRETS, "--set", "autoscaling.enabled=true", "--set", "autoscaling.minReplicas=5",
          "--set", "autoscaling.maxReplicas=3"], "autoscaling.maxReplicas (3)"),
        ([*SECRETS, "--set", "containerPorts.metrics=8000"], "containerPorts.metrics (8000)"),
    ],
    ids=["no-database-url", "no-jwt-secret", "grace-too-short", "prestop-too-long",
         "weak-jwt-in-production", "debug-in-production", "bundled-db-in-production",
         "workers-beyond-memory", "hpa-range", "metrics-port-shared"],
)  # fmt: skip
def test_inconsistent_values_fail_with_what_to_change(args, named):
    assert named in render_error(*args)


def test_every_problem_is_reported_at_once():
    error = render_error("--set", "terminationGracePeriodSeconds=5")
    for named in ("terminationGracePeriodSeconds", "secrets.databaseUrl", "secrets.jwtSecret"):
        assert named in error
