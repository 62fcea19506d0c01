"""Argument parsing, apart from side effects: the actions are replaced by recorders."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from deployctl import actions, cli
from deployctl.errors import DeployError, ExitCode
from deployctl.release import DEFAULT_HELM


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    recorded: list[tuple] = []
    for name in ("deploy", "diff", "status", "rollback", "uninstall"):
        monkeypatch.setattr(
            actions, name, lambda *args, _name=name: recorded.append((_name, *args))
        )
    return recorded


def invoke(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli.cli, list(args), env=env, prog_name="deployctl")


def test_deploy_options_reach_the_action_as_one_options_object(calls, tmp_path):
    extra = tmp_path / "secrets.yaml"
    extra.write_text("{}")
    result = invoke(
        "--env",
        "staging",
        "--context",
        "ctx",
        "--timeout",
        "120",
        "-f",
        str(extra),
        "deploy",
        "--image-tag",
        "0.1.0-abc1234",
        "--dry-run",
    )
    assert result.exit_code == 0, result.output
    expected = actions.Options(
        env="staging",
        kubeconfig=None,
        context="ctx",
        timeout_s=120,
        helm=DEFAULT_HELM,
        values=(extra,),
    )
    assert calls == [("deploy", expected, "0.1.0-abc1234", True)]


def test_defaults(calls):
    assert invoke("-e", "dev", "deploy").exit_code == 0
    assert calls == [("deploy", actions.Options(env="dev"), None, False)]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["status"], ("status",)),
        (["diff", "--image-tag", "t1"], ("diff", "t1")),
        (["rollback"], ("rollback", None)),
        (["rollback", "--revision", "3"], ("rollback", 3)),
        (["uninstall"], ("uninstall", False)),
        (["uninstall", "--yes"], ("uninstall", True)),
    ],
)
def test_each_subcommand_gets_its_own_arguments(calls, args, expected):
    assert invoke("-e", "e2e", *args).exit_code == 0
    name, options, *rest = calls[0]
    assert (name, *rest) == expected
    assert options.env == "e2e"


def test_options_come_from_the_environment(calls):
    env = {
        "DEPLOYCTL_ENV": "production",
        "DEPLOYCTL_CONTEXT": "prod-eu",
        "DEPLOYCTL_DEPLOY_IMAGE_TAG": "1.2.3",
    }
    assert invoke("deploy", env=env).exit_code == 0
    assert calls[0][1].context == "prod-eu"
    assert calls[0][2] == "1.2.3"


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["deploy"], "Missing option '--env'"),
        (["-e", "qa", "deploy"], "'qa' is not one of"),
        (["-e", "dev", "rollback", "--revision", "0"], "x>=1"),
        (["-e", "dev", "--timeout", "0", "status"], "x>=1"),
        (["-e", "dev", "-f", "/nonexistent/values.yaml", "deploy"], "does not exist"),
    ],
)
def test_bad_arguments_exit_2_and_say_which(calls, args, complaint):
    result = invoke(*args)
    assert result.exit_code == ExitCode.USAGE
    assert complaint in result.output
    assert calls == []


def test_an_expected_error_is_one_message_and_its_exit_code(monkeypatch):
    def refuse(*_):
        raise DeployError(ExitCode.PREFLIGHT, "namespace x does not exist", "create it")

    monkeypatch.setattr(actions, "status", refuse)
    result = invoke("-e", "staging", "status")
    assert result.exit_code == ExitCode.PREFLIGHT
    assert result.output == "deployctl: namespace x does not exist. Fix: create it\n"


def test_help_lists_the_subcommands_and_exit_codes():
    result = invoke("--help")
    for word in ("deploy", "diff", "status", "rollback", "uninstall", "Exit codes"):
        assert word in result.output
    for code in ExitCode:
        assert f"  {int(code)}  " in result.output


def test_helm_path_option_is_a_path(calls):
    assert invoke("-e", "dev", "--helm", "/opt/helm", "status").exit_code == 0
    assert calls[0][1].helm == Path("/opt/helm")
