"""The list's statements against a generated table large enough that a sequential scan or a
sort of every match would show: each filter takes an index, and a page stops early."""

import asyncio

import asyncpg
import pytest
from app import crud

from loadtest.stage import seed_items

ROWS = 200_000
LIMIT = 21  # a page of 20 and the row that tells whether another follows


@pytest.fixture(scope="module")
def large_table(postgres) -> str:
    url = postgres.create_database("list_plans", "items_template")
    seed_items(postgres, "list_plans", ROWS)
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


def literal(value) -> str:
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def plans(url: str, **values) -> tuple[str, str]:
    """EXPLAIN of the list's statement for these filters: planned for the values (what the
    service's connections always get: plan_cache_mode force_custom_plan) and generic."""
    statement = crud._list_statement(tuple(name for name in crud._LIST_FILTERS if name in values))
    args = statement.args(**values, limit=LIMIT)

    async def explain() -> tuple[str, str]:
        connection = await asyncpg.connect(url)
        try:
            custom = await connection.fetch(f"EXPLAIN (COSTS OFF) {statement.sql}", *args)
            await connection.execute(f"PREPARE page AS {statement.sql}")
            await connection.execute("SET plan_cache_mode = force_generic_plan")
            literals = ", ".join(literal(arg) for arg in args)
            generic = await connection.fetch(f"EXPLAIN (COSTS OFF) EXECUTE page({literals})")
        finally:
            await connection.close()
        return tuple("\n".join(row[0] for row in plan) for plan in (custom, generic))

    return asyncio.run(explain())


@pytest.mark.parametrize(
    "values",
    [{}, {"after": ROWS - 1000}, {"tag": "group3"}, {"name_prefix": "seed-1"}],
    ids=["plain", "deep-cursor", "common-tag", "common-prefix"],
)
def test_a_page_walks_the_primary_key_and_stops_when_full(large_table, values):
    custom, generic = plans(large_table, **values)
    for plan in (custom, generic):
        assert "Index Scan using items_pkey" in plan, plan
        assert "Seq Scan" not in plan, plan
        assert "Sort" not in plan, plan
    if "after" in values:
        # The cursor is a range on the key: the rows before it are not read.
        assert "Index Cond: (id >" in custom, custom


@pytest.mark.parametrize(
    ("values", "index"),
    [
        ({"name_prefix": "seed-12345"}, "ix_items_name_prefix"),
        ({"tag": "rare7"}, "ix_items_tags"),
        ({"tag": "rare7", "after": ROWS // 2}, "ix_items_tags"),
    ],
    ids=["rare-prefix", "rare-tag", "rare-tag-deep-cursor"],
)
def test_a_selective_filter_takes_its_index(large_table, values, index):
    custom, generic = plans(large_table, **values)
    assert index in custom, custom
    assert "Seq Scan" not in custom, custom
    # A generic plan has no value to estimate with; it may pick either index, but no scan
    # of the whole table.
    assert "Seq Scan" not in generic, generic
