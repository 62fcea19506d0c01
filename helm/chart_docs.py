"""The chart's parameter docs: the `## @param` comments of values.yaml (Bitnami's convention),
the README table generated from them, and the checks that keep docs, values and schema in step.

`make chart-readme` (python -m helm.chart_docs) rewrites the table in helm/items-api/README.md.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

CHART = Path(__file__).resolve().parent / "items-api"
VALUES = CHART / "values.yaml"
SCHEMA = CHART / "values.schema.json"
README = CHART / "README.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"
_MISSING = object()
TABLE_HEAD = ["| Name | Description | Value |", "| --- | --- | --- |"]


@dataclass(frozen=True)
class Param:
    section: str
    path: str
    description: str


def params(text: str | None = None) -> list[Param]:
    text = VALUES.read_text() if text is None else text
    section, found = "", []
    for line in text.splitlines():
        if match := re.match(r"##\s+@section\s+(.+)", line):
            section = match[1].strip()
        elif match := re.match(r"##\s+@param\s+(\S+)\s*(.*)", line):
            found.append(Param(section, match[1], match[2].strip()))
    return found


def lookup(tree, path: str):
    for key in path.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return _MISSING
        tree = tree[key]
    return tree


def leaves(tree: dict, prefix: str = "") -> list[str]:
    """Every value's path; an empty map or list counts as one value."""
    found = []
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            found += leaves(value, f"{path}.")
        else:
            found.append(path)
    return found


def schema_node(schema: dict, path: str):
    node = schema
    for key in path.split("."):
        node = node.get("properties", {}).get(key)
        if node is None:
            return _MISSING
    return node


def _cell(value) -> str:
    return f"`{json.dumps(value, separators=(',', ':'))}`"


def table(found: list[Param] | None = None, values: dict | None = None) -> str:
    found = params() if found is None else found
    values = yaml.safe_load(VALUES.read_text()) if values is None else values
    out, section = [], None
    for param in found:
        if param.section != section:
            section = param.section
            out += ["", f"### {section}", "", *TABLE_HEAD]
        description = param.description.replace("|", r"\|")
        out.append(f"| `{param.path}` | {description} | {_cell(lookup(values, param.path))} |")
    return "\n".join(out).strip() + "\n"


def readme_with_table(readme: str, generated: str) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{generated}{END}{tail}"


def main() -> None:
    README.write_text(readme_with_table(README.read_text(), table()))
    print(f"rewrote the parameter table in {README}")


if __name__ == "__main__":
    main()
