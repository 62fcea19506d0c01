"""Alembic, driven from the same settings as the app."""

import ast
from functools import lru_cache
from pathlib import Path

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "alembic"
# Every migrator takes this lock first, so two at once (two pods, two hook Jobs) run one
# after the other and the second finds nothing to do.
MIGRATION_LOCK_ID = 0x17E45A91


def alembic_config(database_url: str | None = None):
    # alembic (and mako) load only where migrations run: a serving worker would carry their
    # ~7 MB for nothing (loadtest/README.md, rss_mb_per_worker).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def _revision_fields(path: Path) -> dict[str, object]:
    fields = {}
    for node in ast.parse(path.read_text()).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                fields[target.id] = ast.literal_eval(node.value)
    return fields


@lru_cache
def head_revision() -> str | None:
    """The newest migration, from the version files' `revision` and `down_revision` (as
    alembic's ScriptDirectory finds it, without loading alembic into the serving process)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (SCRIPT_LOCATION / "versions").glob("*.py"):
        fields = _revision_fields(path)
        revisions.add(str(fields["revision"]))
        down = fields.get("down_revision")
        parents.update(down if isinstance(down, tuple | list) else [down] if down else [])
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"the migrations have several heads: {sorted(heads)}; merge them")
    return heads.pop() if heads else None


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(database_url), revision)
