"""The list's statements against a generated table large enough that a sequential scan or a
sort of every match would show: each shape walks an index in its page's order and stops when
the page is full, for rare and common filter values and deep cursors alike."""

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


def analyze(url: str, **values) -> str:
    """EXPLAIN ANALYZE of the list's statement for these filters, planned for its values (as
    the service's connections plan every statement: plan_cache_mode force_custom_plan)."""
    prefix = values.get("name_prefix")
    statement = crud._list_statement(
        by_name=prefix is not None,
        tag="tag" in values,
        after="after" in values,
        end=prefix is not None,
    )
    args = statement.args(
        **{"tag": None, "after": None, "name_prefix": prefix, **values},
        name_end=prefix and crud.prefix_end(prefix),
        limit=LIMIT,
    )

    async def explain() -> str:
        connection = await asyncpg.connect(url)
        try:
            plan = await connection.fetch(
                f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {statement.sql}", *args
            )
        finally:
            await connection.close()
        return "\n".join(row[0] for row in plan)

    return asyncio.run(explain())


def rows_read(plan: str, index: str) -> int:
    """Rows the scan of `index` returned (it is read no further than the limit pulls)."""
    line = next(line for line in plan.splitlines() if f"Scan using {index}" in line)
    return int(line.split("rows=")[1].split()[0])


@pytest.mark.parametrize(
    ("values", "index"),
    [
        ({}, "items_pkey"),
        ({"after": ROWS - 1000}, "items_pkey"),
        ({"tag": "seed"}, "item_tags_pkey"),  # every row
        ({"tag": "group3"}, "item_tags_pkey"),  # a tenth
        ({"tag": "rare7"}, "item_tags_pkey"),  # a thousandth
        ({"tag": "rare7", "after": ROWS - 5000}, "item_tags_pkey"),
        ({"name_prefix": "seed-"}, "ix_items_name_c"),  # every row
        ({"name_prefix": "seed-1"}, "ix_items_name_c"),  # a ninth
        ({"name_prefix": "seed-12345"}, "ix_items_name_c"),  # a handful
        ({"name_prefix": "seed-", "after": "seed-99999"}, "ix_items_name_c"),
    ],
    ids=[
        "plain", "deep-cursor", "all-tag", "common-tag", "rare-tag", "rare-tag-deep-cursor",
        "all-prefix", "common-prefix", "rare-prefix", "prefix-deep-cursor",
    ],
)  # fmt: skip
def test_a_page_reads_its_rows_from_an_index_in_order(large_table, values, index):
    plan = analyze(large_table, **values)
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan
    assert "Bitmap" not in plan, plan
    # The page and no more: a deep cursor starts the range at its key, a rare value is
    # a short range, and nothing is filtered out after the index.
    assert rows_read(plan, index) <= LIMIT, plan
    assert "Rows Removed by Filter" not in plan, plan
