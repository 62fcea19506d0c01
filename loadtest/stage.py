"""What every measurement stands on: a throwaway PostgreSQL with seeded items, and a
high-share cgroup that keeps it and the load generators fed on a busy machine."""

import os
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

from harness.net import free_port
from harness.postgres import PostgresServer
from loadtest.budget import Unlimited
from loadtest.procs import VENV_BIN, descendants

ADMIN_EMAIL = "loadtest@example.com"
ADMIN_PASSWORD = "load-test-password-0123"  # noqa: S105 - a throwaway database's only account
SEEDED_ITEMS = 1000  # ids 1..1000, as the INSERT below makes them


def seed_items(postgres: PostgresServer, database: str, count: int, first: int = 1) -> None:
    """Items first..first+count-1 (ids as numbered on an empty table), in one INSERT from
    generate_series: named seed-<n>; tagged seed (all), group<n % 10> (a tenth each) and
    rare<n % 1000> (a thousandth each)."""
    postgres.psql(
        "INSERT INTO items (name, description, price, tags) "  # noqa: S608 - two integers
        "SELECT 'seed-' || g, 'seeded for the load test', (g % 500) + 0.99, "
        "ARRAY['seed', 'group' || (g % 10), 'rare' || (g % 1000)] "
        f"FROM generate_series({first}, {first + count - 1}) g",
        database=database,
    )
    # item_tags too (the triggers filled it): otherwise autovacuum's first pass over a
    # million-row load runs during the measurement, beside PostgreSQL on the load core. Then
    # the pages the load and the vacuum dirtied are written out (the checkpoint, and the
    # kernel's writeback of them), before a measurement rather than during one.
    postgres.psql("VACUUM ANALYZE items, item_tags", database=database)
    postgres.psql("CHECKPOINT", database=database)
    os.sync()


class Stage:
    def __init__(self, name: str = "items-api-loadgen") -> None:
        self._stack = ExitStack()
        self.name = name
        self.support: Unlimited | None = None
        self.postgres: PostgresServer | None = None
        self.database_url = ""
        self.tmp = Path()

    def __enter__(self) -> "Stage":
        from app.core.migrations import upgrade

        self.support = Unlimited(f"{self.name}-{os.getpid()}")
        self._stack.callback(self.support.close)
        # The measuring process itself (and so wrk and Locust, which it starts) is outside
        # the service's budget but in the high-share group.
        self.support.add(os.getpid())
        self.tmp = Path(self._stack.enter_context(tempfile.TemporaryDirectory(prefix="lt-")))
        # PostgreSQL runs as its own user and must reach its folder inside.
        os.chmod(self.tmp, 0o755)  # noqa: S103
        self.postgres = PostgresServer(self.tmp / "pg", port=free_port())
        self.postgres.init()
        self.postgres.start()
        self._stack.callback(self.postgres.stop, "immediate")
        self._adopt_postgres()
        self.postgres.psql("CREATE DATABASE items")
        self.database_url = self.postgres.url("items")
        upgrade(self.database_url)
        subprocess.run(
            [str(VENV_BIN / "items-api"), "create-admin"],
            check=True,
            capture_output=True,
            env={
                **os.environ,
                "DATABASE_URL": self.database_url,
                "ADMIN_EMAIL": ADMIN_EMAIL,
                "ADMIN_PASSWORD": ADMIN_PASSWORD,
                "ENVIRONMENT": "test",
            },
        )
        seed_items(self.postgres, "items", SEEDED_ITEMS)
        return self

    def _adopt_postgres(self) -> None:
        postmaster = int((self.postgres.data_dir / "postmaster.pid").read_text().split()[0])
        for pid in descendants(postmaster):
            self.support.add(pid)

    def __exit__(self, *exc) -> None:
        self._stack.close()

    def sessions_opened(self) -> int:
        """Sessions opened on the items database so far (the pools' and the anchors')."""
        return int(
            self.postgres.psql("SELECT sessions FROM pg_stat_database WHERE datname = 'items'")
        )

    def token_for_admin(self, secret: str) -> str:
        """A bearer token for the admin, as the service signs it with `secret`."""
        from app.core.security import create_access_token

        admin = self.postgres.psql(
            "SELECT id FROM users WHERE is_superuser ORDER BY id LIMIT 1", database="items"
        )
        return create_access_token(admin, secret, 60)

    def token(self, url: str) -> str:
        for _ in range(3):
            response = httpx.post(
                f"{url}/api/v1/auth/token",
                data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                timeout=30,
            )
            if response.status_code == 200:
                return response.json()["access_token"]
            time.sleep(1)
        raise RuntimeError(f"login failed: HTTP {response.status_code} {response.text[:200]}")
