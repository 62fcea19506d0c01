"""lists in the order of an index that also filters: item_tags, and name in the C collation

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

A page of a filtered list must cost its rows at any table size, for rare and common values
alike. `ORDER BY id LIMIT n` with a filter on another index cannot: the planner either walks
the primary key discarding non-matches (slow for a rare value) or reads every match and sorts
(slow for a common one). So each filter gets an index whose order is the page's order:

- tag: item_tags(tag, item_id), one row per tag of an item; its primary key is a range scan
  in item_id order that stops when the page is full. Statement-level triggers on items keep
  it in the same transaction as every write of `items.tags` (insert, update, delete,
  truncate), whoever writes: the service, a migration or a bulk load. The triggers know the
  old tags, so they delete through the primary key; no foreign key, which would need a
  second index on item_id only for its cascade.
- name_prefix: a b-tree on `name COLLATE "C"` (code point order, where a prefix is one
  range); prefix lists are in that order and their cursor is the last name.

The GIN index on tags and the SP-GiST index on name are dropped: nothing queries them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# One function for the four triggers; each branch reads only the transition tables its event
# has (an INSERT has no old rows, a DELETE no new ones).
SYNC = """
CREATE FUNCTION item_tags_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE item_tags;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM item_tags t USING (SELECT id, unnest(tags) AS tag FROM old_items) gone
        WHERE t.tag = gone.tag AND t.item_id = gone.id;
    ELSE
        IF TG_OP = 'UPDATE' THEN
            DELETE FROM item_tags t USING (
                SELECT id, unnest(tags) AS tag FROM old_items
                EXCEPT
                SELECT id, unnest(tags) FROM new_items
            ) gone
            WHERE t.tag = gone.tag AND t.item_id = gone.id;
        END IF;
        INSERT INTO item_tags (tag, item_id)
        SELECT DISTINCT unnest(tags), id FROM new_items
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""
SYNCED_BY = "item_tags_sync()"
TRIGGERS = {
    "items_tags_insert": "AFTER INSERT ON items REFERENCING NEW TABLE AS new_items",
    "items_tags_update": (
        "AFTER UPDATE ON items REFERENCING OLD TABLE AS old_items NEW TABLE AS new_items"
    ),
    "items_tags_delete": "AFTER DELETE ON items REFERENCING OLD TABLE AS old_items",
    "items_tags_truncate": "AFTER TRUNCATE ON items",
}


def upgrade() -> None:
    op.create_table(
        "item_tags",
        sa.Column("tag", sa.String(32), nullable=False),
        sa.Column("item_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("tag", "item_id"),
    )
    op.execute(SYNC)
    for name, when in TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT EXECUTE FUNCTION {SYNCED_BY}")
    op.execute(
        "INSERT INTO item_tags (tag, item_id) SELECT DISTINCT unnest(tags), id FROM items "
        "ON CONFLICT DO NOTHING"
    )
    op.execute('CREATE INDEX ix_items_name_c ON items (name COLLATE "C")')
    op.drop_index("ix_items_name_prefix", table_name="items")
    op.drop_index("ix_items_tags", table_name="items")
    op.execute("ALTER TABLE items ALTER COLUMN tags SET STATISTICS -1")


def downgrade() -> None:
    op.execute("ALTER TABLE items ALTER COLUMN tags SET STATISTICS 1000")
    op.create_index("ix_items_tags", "items", ["tags"], postgresql_using="gin")
    op.create_index("ix_items_name_prefix", "items", ["name"], postgresql_using="spgist")
    op.drop_index("ix_items_name_c", table_name="items")
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON items")
    op.execute("DROP FUNCTION item_tags_sync")
    op.drop_table("item_tags")
