import subprocess
import threading

from app.core.migrations import downgrade, head_revision, upgrade

from harness.service import REPO

TABLES = (
    "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname='public'"
)


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[1]


def test_migrations_go_down_and_up_again(postgres, database_url):
    name = database_name(database_url)
    assert postgres.psql(TABLES, name) == "alembic_version,idempotency_keys,item_tags,items,users"
    downgrade(database_url, "base")
    assert postgres.psql(TABLES, name) == "alembic_version"
    upgrade(database_url)
    assert postgres.psql("SELECT version_num FROM alembic_version", name) == head_revision()


def test_the_tag_table_is_filled_from_the_items_already_there(postgres, database_url):
    name = database_name(database_url)
    downgrade(database_url, "0002")
    postgres.psql(
        "INSERT INTO items (name, price, tags) VALUES ('a', 1, '{red,blue,red}'), ('b', 1, '{}')",
        name,
    )
    upgrade(database_url)
    tags = "SELECT string_agg(tag || ':' || item_id, ',' ORDER BY tag) FROM item_tags"
    ids = postgres.psql("SELECT string_agg(id::text, ',' ORDER BY name) FROM items", name)
    first = ids.split(",")[0]
    assert postgres.psql(tags, name) == f"blue:{first},red:{first}"


def test_two_migrators_at_once_both_succeed(postgres):
    postgres.psql("CREATE DATABASE concurrent_migrations")
    url = postgres.url("concurrent_migrations")
    env_url = {"DATABASE_URL": url}
    runs = []

    def migrate() -> None:
        runs.append(
            subprocess.run(
                [str(REPO / ".venv/bin/items-api"), "migrate"],
                env={"PATH": "/usr/bin:/bin", **env_url},
                capture_output=True,
                text=True,
            )
        )

    threads = [threading.Thread(target=migrate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [run.returncode for run in runs] == [0, 0], [run.stderr for run in runs]
    assert postgres.psql("SELECT count(*) FROM alembic_version", "concurrent_migrations") == "1"
