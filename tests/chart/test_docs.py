"""Bitnami's parameter docs drift by copy-paste; here values.yaml, its `## @param` comments,
values.schema.json and the README table are held to each other."""

import json

import yaml

from helm import chart_docs as docs


def values() -> dict:
    return yaml.safe_load(docs.VALUES.read_text())


def documented() -> list[str]:
    return [p.path for p in docs.params()]


def test_every_value_is_documented_where_it_is_defined():
    paths = documented()
    undocumented = [
        leaf
        for leaf in docs.leaves(values())
        if not any(leaf == p or leaf.startswith(f"{p}.") for p in paths)
    ]
    assert not undocumented, f"add `## @param <path> <description>` above: {undocumented}"


def test_every_documented_parameter_exists_once_with_a_description():
    paths = documented()
    assert len(paths) == len(set(paths)), "a parameter is documented twice"
    assert not [p for p in paths if docs.lookup(values(), p) is docs._MISSING]
    assert not [p.path for p in docs.params() if not p.description]


def test_every_documented_parameter_is_in_the_schema():
    schema = json.loads(docs.SCHEMA.read_text())
    missing = [p for p in documented() if docs.schema_node(schema, p) is docs._MISSING]
    assert not missing, f"values.schema.json lacks: {missing}"


def test_the_schema_holds_no_key_values_yaml_lacks():
    schema = json.loads(docs.SCHEMA.read_text())
    assert set(schema["properties"]) == set(values())
    assert schema["additionalProperties"] is False


def test_readme_table_is_the_generated_one():
    readme = docs.README.read_text()
    assert docs.START in readme
    assert readme == docs.readme_with_table(readme, docs.table()), (
        "README.md's parameter table is stale: run `make chart-readme`"
    )


def test_table_shows_each_default():
    generated = docs.table(
        [docs.Param("S", "a.b", "The b"), docs.Param("S", "c", "Pipes | escaped")],
        {"a": {"b": "x"}, "c": []},
    )
    assert '| `a.b` | The b | `"x"` |' in generated
    assert "| `c` | Pipes \\| escaped | `[]` |" in generated
