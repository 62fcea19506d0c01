"""indexes the item list's filters use

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01

`name_prefix` is `name ^@ $1` (starts_with): the unique b-tree on name cannot serve a prefix
under the database's collation (LIKE 'x%' needs the C collation, and a literal pattern, which
a prepared statement's generic plan does not have); SP-GiST's text operator class serves `^@`
with a parameter. The tag filter has its GIN index (0001); whether the planner takes it or
walks the primary key until a page is full depends on how common the tag is, so the tags
column keeps element statistics for up to 10,000 distinct tags. The plain list and its cursor
use the primary key.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_name_prefix", "items", ["name"], postgresql_using="spgist")
    op.execute("ALTER TABLE items ALTER COLUMN tags SET STATISTICS 1000")


def downgrade() -> None:
    op.execute("ALTER TABLE items ALTER COLUMN tags SET STATISTICS -1")
    op.drop_index("ix_items_name_prefix", table_name="items")
