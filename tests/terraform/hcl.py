"""Reading Terraform with python-hcl2: its output keeps HCL's quotes and ${...} wrappers."""

import re
from pathlib import Path

import hcl2

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
MODULES = sorted(p for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
ROOT_MODULES = sorted(
    p for group in ("environments", "examples") for p in (TERRAFORM / group).iterdir() if p.is_dir()
)
# Arguments every module block takes besides the module's own variables.
META_ARGUMENTS = {"source", "version", "providers", "depends_on", "count", "for_each"}


def unquote(value):
    """'"text"' -> 'text'; anything else (expressions, numbers, blocks) unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def load_dir(directory: Path) -> dict[str, list]:
    """All top-level blocks of a directory's .tf files, merged by block type."""
    merged: dict[str, list] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as f:
            for kind, blocks in hcl2.load(f).items():
                if not kind.startswith("__"):
                    merged.setdefault(kind, []).extend(blocks)
    return merged


def named(blocks: list[dict]) -> dict[str, dict]:
    """[{'"name"': body}, ...] -> {'name': body}."""
    return {unquote(name): body for block in blocks for name, body in block.items()}


def variables(directory: Path) -> dict[str, dict]:
    return named(load_dir(directory).get("variable", []))


def outputs(directory: Path) -> dict[str, dict]:
    return named(load_dir(directory).get("output", []))


def object_attributes(type_expression: str) -> set[str] | None:
    """Attribute names of an object({...}) type, or None for any other type."""
    text = type_expression.strip().removeprefix("${").removesuffix("}")
    if not text.startswith("object("):
        return None
    body = text[len("object(") :]
    names, depth = set(), 0
    for match in re.finditer(r"[{}()\[\]]|([A-Za-z_][A-Za-z0-9_-]*)\s*=(?!=)", body):
        token = match.group(0)
        if token in "{([":
            depth += 1
        elif token in "})]":
            depth -= 1
        elif depth == 1:
            names.add(match.group(1))
    return names


def resources(directory: Path) -> dict[str, dict[str, dict]]:
    """{resource type: {name: body}} of a directory."""
    by_type: dict[str, dict[str, dict]] = {}
    for block in load_dir(directory).get("resource", []):
        for kind, instances in block.items():
            by_type.setdefault(unquote(kind), {}).update(named([instances]))
    return by_type
