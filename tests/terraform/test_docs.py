"""Module READMEs list exactly their variables and outputs; terraform/README.md's commands
name only what exists."""

import re

import pytest

from tests.terraform.hcl import MODULES, TERRAFORM, outputs, unquote, variables


def _table(readme: str, heading: str) -> dict[str, str]:
    """{name: description} of the table under a '## heading'."""
    section = readme.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([\w-]+)` \| (.*?) \|", section, re.MULTILINE))


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_readme_tables_match_the_code(module):
    readme = (module / "README.md").read_text()
    documented = _table(readme, "Inputs")
    assert documented == {n: unquote(b["description"]) for n, b in variables(module).items()}
    documented = _table(readme, "Outputs")
    assert documented == {n: unquote(b["description"]) for n, b in outputs(module).items()}


def test_from_nothing_commands_name_what_exists():
    """The README's ordered commands use only variables and outputs their root declares,
    directories and files that exist, and make targets the Makefile has."""
    readme = (TERRAFORM / "README.md").read_text()
    section = readme.split("\n## From nothing to a running service on AWS\n", 1)[1]
    script = section.split("```sh\n", 1)[1].split("```", 1)[0]
    repository = TERRAFORM.parent
    cwd, seen = repository, {"var": set(), "output": set(), "make": set()}
    for line in script.replace("\\\n", " ").splitlines():
        line = line.split("#", 1)[0] if line.lstrip().startswith("#") else line
        if match := re.match(r"\s*cd (\S+)", line):
            cwd = (cwd / match.group(1)).resolve()
            assert cwd.is_dir(), f"cd {match.group(1)}: no such directory"
        for match in re.finditer(r"\bsed .*?(\S+\.example) >", line):
            assert (cwd / match.group(1)).is_file(), match.group(1)
        for match in re.finditer(r"-var \"?([a-z_]+)=", line):
            assert match.group(1) in variables(cwd), f"{cwd.name}: no variable {match.group(1)}"
            seen["var"].add(match.group(1))
        for match in re.finditer(r"terraform (?:-chdir=(\S+) )?output -raw ([a-z_]+)", line):
            root = repository / match.group(1) if match.group(1) else cwd
            assert match.group(2) in outputs(root), f"{root.name}: no output {match.group(2)}"
            seen["output"].add(match.group(2))
        for match in re.finditer(r"\bmake ([a-z][\w-]*)", line):
            assert re.search(
                rf"^{re.escape(match.group(1))}:", _make_rules(repository), re.MULTILINE
            ), f"make {match.group(1)}: no such target"
            seen["make"].add(match.group(1))
    # The parser found the commands at all (a reworded block would otherwise pass).
    assert {"github_repository", "platform_state", "image_digest"} <= seen["var"]
    assert {"ecr_repository_url", "app_secret_arn"} <= seen["output"]
    assert {"terraform-lock", "status"} <= seen["make"]


def _make_rules(repository) -> str:
    return "\n".join(
        p.read_text() for p in [repository / "Makefile", *(repository / "mk").glob("*.mk")]
    )
