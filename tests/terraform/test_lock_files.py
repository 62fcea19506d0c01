"""Committed .terraform.lock.hcl files against the root modules they lock.

A lock must select exactly the providers the root and the modules it calls require, each
at a version every constraint admits, and record the constraints as they stand (a changed
versions.tf means relocking). That part reads the HCL and needs no network. With this
machine's provider mirror (TF_PROVIDER_MIRROR), mk/terraform-lock also runs Terraform's own
`init -lockfile=readonly` and `validate` with each lock whose providers the mirror holds,
which checks the recorded checksums too; ci.yml's terraform-lock-check does the same against
the registry. terraform/README.md's lock table says, per root, what is locked.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import hcl2
import pytest

from tests.terraform.hcl import ROOT, ROOT_MODULES, TERRAFORM, load_dir, named, unquote

REGISTRY = "registry.terraform.io/"
OPERATOR = re.compile(r"^\s*(~>|>=|<=|!=|=|>|<)?\s*v?(\d+(?:\.\d+)*)\s*$")


def _version(text: str) -> tuple[int, int, int]:
    parts = [int(p) for p in text.split(".")]
    return tuple([*parts, 0, 0, 0][:3])


def _terms(constraints: str) -> set[tuple[str, tuple[int, int, int]]]:
    """'>= 5.100, < 7.0' -> {('>=', (5, 100, 0)), ('<', (7, 0, 0))}; '~>' stays '~>' with
    its written precision (~> 3.0 and ~> 3.0.0 admit different versions)."""
    terms = set()
    for term in constraints.split(","):
        match = OPERATOR.match(term)
        assert match, f"not a version constraint: {term!r}"
        op, written = match.group(1) or "=", match.group(2)
        terms.add((op if op != "~>" else f"~>{written.count('.')}", _version(written)))
    return terms


def _admits(term: tuple[str, tuple[int, int, int]], version: tuple[int, int, int]) -> bool:
    op, bound = term
    if op.startswith("~>"):
        # ~> X.Y admits >= X.Y, < (X+1).0; ~> X.Y.Z admits >= X.Y.Z, < X.(Y+1).0.
        precision = int(op[2:])
        index = max(precision - 1, 0)
        upper = list(bound[: index + 1])
        upper[index] += 1
        return bound <= version < _version(".".join(map(str, upper)))
    return {
        "=": version == bound,
        "!=": version != bound,
        ">": version > bound,
        ">=": version >= bound,
        "<": version < bound,
        "<=": version <= bound,
    }[op]


def required(directory: Path) -> dict[str, set]:
    """{provider address: constraint terms} of a module and every local module it calls."""
    blocks = load_dir(directory)
    needs: dict[str, set] = {}
    for terraform in blocks.get("terraform", []):
        for group in terraform.get("required_providers", []):
            for name, spec in group.items():
                if name.startswith("__"):
                    continue
                address = REGISTRY + unquote(spec["source"])
                needs.setdefault(address, set()).update(_terms(unquote(spec["version"])))
    for call in named(blocks.get("module", [])).values():
        source = unquote(call["source"])
        if source.startswith(("./", "../")):
            for address, terms in required((directory / source).resolve()).items():
                needs.setdefault(address, set()).update(terms)
    return needs


def locked(text: str) -> dict[str, dict]:
    """{provider address: {version, constraints, hashes}} of a lock file's text."""
    parsed = hcl2.loads(text)
    return {
        address: {
            "version": unquote(body["version"]),
            "constraints": unquote(body.get("constraints", '""')),
            "hashes": [unquote(h) for h in body.get("hashes", [])],
        }
        for address, body in named(parsed.get("provider", [])).items()
    }


def problems(needs: dict[str, set], lock: dict[str, dict]) -> list[str]:
    found = [f"{a}: required, not in the lock" for a in sorted(needs.keys() - lock.keys())]
    found += [f"{a}: locked, required by nothing" for a in sorted(lock.keys() - needs.keys())]
    for address in sorted(needs.keys() & lock.keys()):
        entry = lock[address]
        version = _version(entry["version"])
        refused = sorted(t for t in needs[address] if not _admits(t, version))
        if refused:
            found.append(f"{address}: {entry['version']} is outside {refused}")
        if _terms(entry["constraints"]) != needs[address]:
            found.append(f"{address}: recorded constraints {entry['constraints']!r} are stale")
        if not entry["hashes"] or not all(
            re.fullmatch(r"(h1:[A-Za-z0-9+/]{43}=|zh:[0-9a-f]{64})", h) for h in entry["hashes"]
        ):
            found.append(f"{address}: no checksums, or malformed ones: {entry['hashes']}")
    return found


def _id(path: Path) -> str:
    return str(path.relative_to(TERRAFORM))


def _lock_path(root: Path) -> Path:
    return root / ".terraform.lock.hcl"


LOCKED_ROOTS = [root for root in ROOT_MODULES if _lock_path(root).exists()]


def test_some_root_commits_a_lock():
    assert LOCKED_ROOTS, "no root module commits its .terraform.lock.hcl"


@pytest.mark.parametrize("root", LOCKED_ROOTS, ids=_id)
def test_committed_lock_matches_the_configuration(root):
    assert problems(required(root), locked(_lock_path(root).read_text())) == []


def test_a_lock_that_misses_a_provider_or_strays_from_the_constraints_is_refused():
    root = TERRAFORM / "environments" / "production"
    needs = required(root)
    aws, helm, kubernetes = (REGISTRY + f"hashicorp/{n}" for n in ("aws", "helm", "kubernetes"))
    assert needs.keys() == {aws, helm, kubernetes}
    good = {
        aws: {
            "version": "6.2.0",
            "constraints": ">= 5.100.0, < 7.0.0",
            "hashes": ["zh:" + "0" * 64],
        },
        helm: {"version": "3.0.2", "constraints": "~> 3.0", "hashes": ["zh:" + "1" * 64]},
        kubernetes: {"version": "3.0.1", "constraints": "~> 3.0", "hashes": ["zh:" + "2" * 64]},
    }
    assert problems(needs, good) == []
    assert problems(needs, {aws: good[aws], helm: good[helm]}) == [
        f"{kubernetes}: required, not in the lock"
    ]
    for version, refused in (("7.0.0", "('<', (7, 0, 0))"), ("5.99.0", "('>=', (5, 100, 0))")):
        stray = {**good, aws: {**good[aws], "version": version}}
        assert problems(needs, stray) == [f"{aws}: {version} is outside [{refused}]"]
    stray = {**good, helm: {**good[helm], "version": "4.0.0"}}
    assert problems(needs, stray) == [f"{helm}: 4.0.0 is outside [('~>1', (3, 0, 0))]"]
    stale = {**good, helm: {**good[helm], "constraints": "~> 2.0"}}
    assert problems(needs, stale) == [f"{helm}: recorded constraints '~> 2.0' are stale"]


def _readme_lock_table() -> dict[str, str]:
    readme = (TERRAFORM / "README.md").read_text()
    section = readme.split("\n## Lock files\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `([\w/-]+)` \| (.*?) \|", section, re.MULTILINE))


def _lock_summary(root: Path) -> str:
    if not _lock_path(root).exists():
        return "none yet"
    lock = locked(_lock_path(root).read_text())
    summary = ", ".join(
        f"`{address.removeprefix(REGISTRY)} {entry['version']}`"
        for address, entry in sorted(lock.items())
    )
    # zh: checksums come only from the registry's signed list, for every platform.
    registry = all(any(h.startswith("zh:") for h in e["hashes"]) for e in lock.values())
    return summary if registry else f"{summary}, mirror checksums only"


def test_readme_says_what_each_root_locks():
    assert _readme_lock_table() == {_id(root): _lock_summary(root) for root in ROOT_MODULES}


def _in_mirror(mirror: Path, root: Path) -> bool:
    lock = locked(_lock_path(root).read_text())
    return all((mirror / address / e["version"]).is_dir() for address, e in lock.items())


def _check_offline(workdir: Path, root: Path) -> subprocess.CompletedProcess:
    """mk/terraform-lock check of one root in a copy of the tree, from the mirror."""
    return subprocess.run(
        ["mk/terraform-lock", "check", str(root.relative_to(ROOT))],
        cwd=workdir,
        # The mirror's one platform; a check of a committed lock stops before it matters.
        env={
            **os.environ,
            "TF_LOCK_MIRROR": os.environ["TF_PROVIDER_MIRROR"],
            "TF_LOCK_PLATFORMS": "linux_amd64",
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def tree(tmp_path):
    """The files mk/terraform-lock reads, copied so a test may spoil a lock."""
    if not os.environ.get("TF_PROVIDER_MIRROR"):
        pytest.skip(
            "no provider mirror (TF_PROVIDER_MIRROR): "
            "ci.yml's terraform-lock-check runs this against the registry"
        )
    for name in ("terraform", "helm", "deploy"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns(".terraform"))
    (tmp_path / "mk").mkdir()
    shutil.copy(ROOT / "mk" / "terraform-lock", tmp_path / "mk")
    return tmp_path


def test_terraform_accepts_the_committed_locks_the_mirror_can_serve(tree):
    mirror = Path(os.environ["TF_PROVIDER_MIRROR"])
    servable = [root for root in LOCKED_ROOTS if _in_mirror(mirror, root)]
    assert servable, f"{mirror} serves none of the committed locks"
    for root in servable:
        done = _check_offline(tree, root)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{_id(root)}/.terraform.lock.hcl: holds" in done.stdout


def test_terraform_refuses_a_lock_whose_checksum_is_not_the_package(tree):
    mirror = Path(os.environ["TF_PROVIDER_MIRROR"])
    root = next(root for root in LOCKED_ROOTS if _in_mirror(mirror, root))
    lock = tree / root.relative_to(ROOT) / ".terraform.lock.hcl"
    lock.write_text(re.sub(r'"h1:[^"]+"', '"h1:' + "A" * 43 + '="', lock.read_text()))
    done = _check_offline(tree, root)
    assert done.returncode != 0
    said = " ".join(done.stderr.split())
    assert "doesn't match any of the checksums previously recorded" in said
    assert "does not hold for this configuration" in said
