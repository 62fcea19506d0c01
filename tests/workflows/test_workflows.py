"""GitHub workflows: thin (each run: step is an existing make target), pinned, least-privilege."""

import re
import shlex
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
ACTIONS = sorted((ROOT / ".github" / "actions").glob("*/action.yml"))
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
# The only write scopes any job may hold, and which jobs hold them.
WRITE_SCOPES = {
    # Push to GHCR, and sign keyless with the job's OIDC token.
    ("ci", "publish"): {"packages", "id-token"},
    # The e2e on kind pushes the run's image, chart and signatures to GHCR.
    ("ci", "e2e"): {"packages"},
    # Calls deploy.yml, whose jobs assume AWS roles by OIDC.
    ("ci", "deploy"): {"id-token"},
    ("deploy", "staging"): {"id-token"},
    ("deploy", "production"): {"id-token"},
}


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _steps(workflow: dict):
    """(job id, step) of a workflow, or ("runs", step) of a composite action."""
    if "runs" in workflow:
        for step in workflow["runs"]["steps"]:
            yield "runs", step
        return
    for job_id, job in workflow["jobs"].items():
        for step in job.get("steps", []):
            yield job_id, step


@cache
def _make_targets() -> tuple[set[str], set[str]]:
    """(every target in make's database, the targets `make help` documents)."""
    database = subprocess.run(
        ["make", "-pq", "help"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout
    targets, not_a_target = set(), False
    for line in database.splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+):(?!=)", line)
        if match and not not_a_target:
            targets.add(match.group(1))
        not_a_target = line.startswith("# Not a target")
    documented = subprocess.run(
        ["make", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return targets, {line.split()[0] for line in documented.splitlines() if line.strip()}


def _make_goals(command: str) -> list[str]:
    words = shlex.split(command)
    assert words[0] == "make", f"run: steps call make, not {words[0]!r}: {command}"
    goals = []
    for word in words[1:]:
        if word in {">", ">>", "|", "&&", ";"}:
            break
        if not word.startswith("-") and "=" not in word:
            goals.append(word)
    assert goals, f"no make target in: {command}"
    return goals


def _id(path: Path) -> str:
    return str(path.relative_to(ROOT / ".github"))


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=_id)
def test_every_run_step_calls_a_documented_make_target(path):
    targets, documented = _make_targets()
    for job_id, step in _steps(_load(path)):
        if "run" not in step:
            continue
        command = step["run"].strip()
        assert "\n" not in command, f"{job_id}: one make call per run: step"
        for goal in _make_goals(command):
            assert goal in targets, f"{path.name} {job_id}: make {goal} does not exist"
            assert goal in documented, f"{path.name} {job_id}: make {goal} has no ## help text"


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=_id)
def test_third_party_actions_are_pinned_to_a_full_commit_sha(path):
    for job_id, step in _steps(_load(path)):
        uses = step.get("uses")
        if uses and uses.startswith("./"):
            assert (ROOT / uses / "action.yml").is_file(), f"{job_id}: no local action {uses}"
        elif uses:
            assert PINNED.match(uses), f"{job_id}: {uses} is not pinned to a commit SHA"
    for line in path.read_text().splitlines():
        if "uses:" in line and "@" in line:
            assert re.search(r"@[0-9a-f]{40} # v\d", line), f"say which version the SHA is: {line}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=_id)
def test_permissions_are_least_privilege(path):
    workflow = _load(path)
    assert workflow["permissions"] == {}, "grant nothing at the top; each job asks for its own"
    for job_id, job in workflow["jobs"].items():
        permissions = job["permissions"]
        assert permissions.get("contents") == "read"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes == WRITE_SCOPES.get((path.stem, job_id), set()), f"{job_id}: {writes}"


@pytest.mark.parametrize("path", WORKFLOWS, ids=_id)
def test_runs_are_grouped_for_concurrency(path):
    assert _load(path)["concurrency"]["group"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=_id)
def test_checkouts_keep_no_token(path):
    for job_id, step in _steps(_load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step["with"]["persist-credentials"] is False, job_id


def _run_goals(job: dict) -> list[str]:
    return [goal for step in job.get("steps", []) if "run" in step
            for goal in _make_goals(step["run"])]  # fmt: skip


def test_ci_builds_once_and_publishes_the_scanned_image_only_from_main():
    jobs = _load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    image, publish = jobs["image"], jobs["publish"]
    builds = [s for j in jobs.values() for s in j.get("steps", [])
              if s.get("uses", "").startswith("docker/build-push")]  # fmt: skip
    assert len(builds) == 1, "one build"
    assert builds[0] in image["steps"], "in the image job"
    assert builds[0]["with"].get("push") is not True
    scan = [s for s in image["steps"] if s.get("uses", "").startswith("anchore/scan")]
    assert scan
    assert scan[0]["with"]["fail-build"] is True
    # The scanned image leaves the job as an archive, after the scan.
    steps = image["steps"]
    assert steps.index(scan[0]) < next(
        i for i, s in enumerate(steps) if s.get("run", "").startswith("make image-archive")
    )
    assert "refs/heads/main" in publish["if"]
    assert {"image", "test", "chart", "terraform"} <= set(publish["needs"])
    assert _run_goals(publish)[:3] == ["image-push", "image-sign", "chart-publish"]
    assert publish["env"]["COSIGN_KEY"] == "", "keyless: the workflow's own identity signs"
    assert publish["env"]["IMAGE_ARCHIVE"] == ".local/release/image.tar"


def test_deploy_runs_only_after_ci_passed_with_the_digest_it_published():
    ci = _load(ROOT / ".github" / "workflows" / "ci.yml")["jobs"]
    assert ci["deploy"]["needs"] == "publish"
    assert ci["deploy"]["uses"] == "./.github/workflows/deploy.yml"
    assert ci["deploy"]["with"]["image_ref"] == "${{ needs.publish.outputs.image_ref }}"
    deploy = _load(ROOT / ".github" / "workflows" / "deploy.yml")
    # `on:` parses as True in YAML 1.1.
    triggers = deploy[True]
    assert set(triggers) == {"workflow_call", "workflow_dispatch"}, "never a bare tag push"
    assert deploy["env"]["IMAGE_REF"] == "${{ inputs.image_ref }}"
    assert deploy["env"]["COSIGN_IDENTITY"].endswith("/.github/workflows/ci.yml@refs/heads/main")
    for job in deploy["jobs"].values():
        assert "IMAGE_TAG" not in str(job), "deploys by digest, never by tag"


def test_production_deploys_after_staging_behind_its_environment_by_oidc():
    path = ROOT / ".github" / "workflows" / "deploy.yml"
    jobs = _load(path)["jobs"]
    assert jobs["production"]["needs"] == "staging"
    assert jobs["production"]["environment"] == "production"
    for job in jobs.values():
        (aws,) = [s for s in job["steps"] if s.get("uses", "").startswith("aws-actions/")]
        assert "role-to-assume" in aws["with"]
    assert "secrets.AWS" not in path.read_text(), "no long-lived cloud keys"


def _dependabot_directories(ecosystem: str) -> set[str]:
    config = yaml.safe_load((ROOT / ".github" / "dependabot.yml").read_text())
    return {
        directory
        for update in config["updates"]
        if update["package-ecosystem"] == ecosystem
        for directory in update.get("directories", [update.get("directory")])
    }


def test_dependabot_updates_actions_pip_and_docker():
    assert _dependabot_directories("pip") == {"/"}
    assert _dependabot_directories("github-actions") >= {
        "/",
        *(f"/{action.parent.relative_to(ROOT)}" for action in ACTIONS),
    }


def test_dependabot_covers_every_dockerfile_with_a_pinned_base():
    """A Dockerfile whose published base is pinned by digest goes stale unless dependabot
    proposes the new digest (those built on the local base take it as a build argument)."""
    pinned = {
        f"/{dockerfile.parent.relative_to(ROOT)}"
        for dockerfile in ROOT.glob("**/Dockerfile")
        if ".venv" not in dockerfile.parts and "@sha256:" in dockerfile.read_text()
    }
    assert {"/service", "/nginx", "/loadtest/k8s"} <= pinned
    assert pinned <= _dependabot_directories("docker")
