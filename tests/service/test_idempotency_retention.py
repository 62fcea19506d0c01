"""Idempotency keys expire: `items-api purge-idempotency-keys` (what the chart's CronJob and
`make up` run) deletes those older than IDEMPOTENCY_RETENTION_S from the real database."""

import os
import subprocess

from harness.service import REPO
from tests.service.api.routes.test_items import ITEM

ITEMS_API = str(REPO / ".venv" / "bin" / "items-api")
RETENTION_S = 3600


def post(client, auth_headers, key: str):
    return client.post(
        "/api/v1/items",
        json={**ITEM, "name": f"item for {key}"},
        headers={**auth_headers, "Idempotency-Key": key},
    )


def purge(database_url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [ITEMS_API, "purge-idempotency-keys"],
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "IDEMPOTENCY_RETENTION_S": str(RETENTION_S),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_purge_command_deletes_only_expired_keys(client, auth_headers, postgres, database_url):
    old = post(client, auth_headers, "old").json()
    recent = post(client, auth_headers, "recent").json()
    database = database_url.rsplit("/", 1)[1]
    postgres.psql(
        "UPDATE idempotency_keys SET created_at = now() - interval '61 minutes' WHERE key = 'old'",
        database,
    )

    result = purge(database_url)
    assert result.returncode == 0, result.stderr
    assert f"purged 1 idempotency keys older than {RETENTION_S}s" in result.stdout

    assert postgres.psql("SELECT key FROM idempotency_keys", database).split() == ["recent"]
    replayed = post(client, auth_headers, "recent")
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == recent
    # An expired key is a new request: it creates (here: a name clash with the first create).
    again = post(client, auth_headers, "old")
    assert again.status_code == 409, again.text
    assert "idempotent-replayed" not in again.headers
    assert old["name"] in again.json()["detail"]

    assert purge(database_url).stdout.startswith("purged 0 ")
