"""Each module's README tables list exactly its variables and outputs, with their descriptions."""

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
