"""A throwaway PostgreSQL server: initdb in a temporary folder, a free loopback port."""

import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

from harness.net import free_port
from harness.wait import eventually


def postgres_bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), reverse=True)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries not found: apt-get install postgresql")
    return candidates[0].parent


# A statement as log_statement=all records it: simple protocol ("statement: BEGIN;") or the
# execute step of the extended protocol, which asyncpg uses ("execute __asyncpg_stmt_1__: ...").
_LOGGED_STATEMENT = re.compile(r"\[(\d+)\] LOG:  (?:statement|execute [^:]*): (.*)")


class PostgresServer:
    def __init__(self, base_dir: Path, *, port: int | None = None, user: str = "items") -> None:
        self.base_dir = Path(base_dir)
        self.data_dir = self.base_dir / "data"
        self.socket_dir = self.base_dir / "socket"
        self.log_file = self.base_dir / "postgres.log"
        self.port = port or free_port()
        self.user = user
        self.bindir = postgres_bindir()
        self._as_postgres_user = os.geteuid() == 0

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres_user:
            # PostgreSQL's tools, pg_ctl included, refuse to run as root.
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def init(self) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self._as_postgres_user:
            shutil.chown(self.base_dir, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run(
                "initdb", "-D", str(self.data_dir), "-U", self.user, "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8",
            )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-o", options,
            "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def url(self, database: str = "postgres", driver: str = "postgresql+asyncpg") -> str:
        return f"{driver}://{self.user}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
             "-d", database, "-v", "ON_ERROR_STOP=1", "-At", "-c", sql],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        return result.stdout.strip()

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create a database (a copy of template, if given); returns its URL."""
        sql = f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else "")

        def created() -> bool:
            try:
                self.psql(sql)
            except subprocess.CalledProcessError as error:
                # Copying waits for other sessions on the template to leave; on a busy machine
                # that can take longer than PostgreSQL's own 5 s grace.
                if "being accessed by other users" not in error.stderr:
                    raise
                return False
            return True

        eventually(created, f"database {name} created", timeout=30, every=0.5)
        return self.url(name)

    def log_statements(self, database: str) -> None:
        """Log every statement of the sessions that connect to `database` from now on."""
        self.psql(f"ALTER DATABASE {database} SET log_statement = 'all'")

    @contextmanager
    def statements_of(self, database: str, application_name: str, into: list[str]):
        """Collect into `into` the statements the sessions of `application_name` on
        `database` sent inside the block: one per round trip (log_statements first)."""
        start = self.log_file.stat().st_size
        yield
        sessions = (
            "SELECT pid FROM pg_stat_activity WHERE datname = '{}' AND application_name = '{}'"
        )
        pids = set(self.psql(sessions.format(database, application_name)).split())
        with self.log_file.open(errors="replace") as log:
            log.seek(start)
            collecting = False
            for line in log:
                if collecting and line.startswith("\t"):  # the statement's next line
                    into[-1] += " " + line.strip()
                    continue
                found = _LOGGED_STATEMENT.search(line)
                collecting = bool(found and found.group(1) in pids)
                if collecting:
                    into.append(found.group(2).strip())
