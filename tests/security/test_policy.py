"""Every policy check of the security review runs in `make lint` (read from make's dry run)."""

import re
import subprocess

import pytest

from harness.service import REPO

# kube-linter cannot be installed here (no release downloads); the developers' guide
# names kube-score together with checkov's kubernetes policies in its place.
CHECKS = {
    "checkov over the rendered chart": r"--framework kubernetes --directory \S+/\.local/chart",
    "checkov over Terraform": r"--framework terraform --directory terraform",
    "checkov over the service Dockerfile": r"--framework dockerfile .*--file service/Dockerfile",
    "checkov over the GitHub workflows": r"--framework github_actions\s+--directory \.github",
    "kube-score over the rendered chart": r"kube-score score .*\$f",
    "gixy over every nginx rendering": r"gixy \$conf",
    "hadolint over the service Dockerfile": r"hadolint service/Dockerfile",
    "detect-secrets against the baseline": r"python -m mk\.secret_scan$",
}


@pytest.fixture(scope="module")
def lint_commands() -> str:
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "-n", "lint"],
        cwd=REPO, capture_output=True, text=True, check=True,
    )  # fmt: skip
    # Recipes continued with a backslash are one command.
    return dry_run.stdout.replace("\\\n", " ")


@pytest.mark.parametrize("check", CHECKS)
def test_make_lint_runs(lint_commands, check):
    command = CHECKS[check]
    if "--framework" in command:
        command = r"checkov .*" + command
    assert re.search(command, lint_commands, re.MULTILINE), f"make lint does not run {check}"


def test_no_skip_without_a_reason():
    """Each checkov skip of lint-policy is explained next to it in mk/reliability.mk."""
    fragment = (REPO / "mk" / "reliability.mk").read_text()
    skips = re.findall(r"^CHECKOV_\w+_SKIPS := (.+)$", fragment, re.MULTILINE)
    for check in ",".join(skips).split(","):
        assert re.search(rf"^#\s+{check}\s+\S", fragment, re.MULTILINE), f"{check} has no reason"
