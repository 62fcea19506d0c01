"""What an upgrade would change: the release's current manifests against the new render,
object by object (the comparison helm-diff makes), with Secret values never printed."""

import difflib
import hashlib
from typing import Any

import yaml

REDACTED = "<redacted sha256:{}>"


def _key(doc: dict[str, Any]) -> str:
    return f"{doc.get('kind', '?')}/{doc.get('metadata', {}).get('name', '?')}"


def _redact(doc: dict[str, Any]) -> dict[str, Any]:
    """Secrets keep their keys and a digest per value, so a changed value shows as changed."""
    if doc.get("kind") != "Secret":
        return doc
    redacted = dict(doc)
    for field in ("data", "stringData"):
        if isinstance(doc.get(field), dict):
            redacted[field] = {
                key: REDACTED.format(hashlib.sha256(str(value).encode()).hexdigest()[:12])
                for key, value in doc[field].items()
            }
    return redacted


def objects(stream: str) -> dict[str, str]:
    """Each object of a manifest stream as redacted, key-sorted YAML, by Kind/name."""
    found = {}
    for doc in yaml.safe_load_all(stream):
        if isinstance(doc, dict) and doc:
            found[_key(doc)] = yaml.safe_dump(_redact(doc), sort_keys=True)
    return found


def diff_manifests(current: str, new: str) -> list[str]:
    """One block per added, removed or changed object; empty when nothing changes."""
    before, after = objects(current), objects(new)
    blocks = []
    for key in sorted(before.keys() | after.keys()):
        old, fresh = before.get(key, ""), after.get(key, "")
        if old == fresh:
            continue
        mark = "+" if not old else "-" if not fresh else "~"
        lines = difflib.unified_diff(
            old.splitlines(), fresh.splitlines(), "current", "new", lineterm="", n=3
        )
        blocks.append("\n".join([f"{mark} {key}", *(f"    {line}" for line in lines)]))
    return blocks
