"""A real Postgres on loopback for tests: initdb into a temp folder, a free port, stopped by its data dir.

Postgres refuses to run as root, so when the tests run as root the server runs as the `postgres`
user (Debian's package creates it); otherwise as the current user. Only the server started here is
stopped (`pg_ctl stop -D <that data dir>`), never anything found by name.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ports import free_port

PG_VERSIONS = ("17", "16", "15")


@dataclass(frozen=True)
class Postgres:
    """A running loopback server and the libpq keywords to reach its database."""

    host: str
    port: int
    user: str
    dbname: str

    @property
    def dsn(self) -> str:
        return f"host={self.host} port={self.port} user={self.user} dbname={self.dbname}"

    def create_database(self, name: str) -> Postgres:
        """A fresh empty database on the same server."""
        import psycopg2

        con = psycopg2.connect(self.dsn)
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')  # a test's own fixed name, not input
        con.close()
        return Postgres(self.host, self.port, self.user, name)


def _bin_dir() -> Path | None:
    for version in PG_VERSIONS:
        path = Path(f"/usr/lib/postgresql/{version}/bin")
        if (path / "initdb").is_file():
            return path
    return None


def _as_user(user: str | None, args: list[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *args] if user else args


@contextmanager
def running_postgres() -> Iterator[Postgres]:
    """Start a throwaway Postgres on 127.0.0.1 and stop exactly it afterwards."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.fail("Postgres is not installed: run `apt-get install -y postgresql` (the lake tests need it)")
    run_as = "postgres" if os.geteuid() == 0 else None
    user = run_as or os.environ.get("USER", "postgres")
    root = Path(tempfile.mkdtemp(prefix="tubescribe-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if run_as:
        shutil.chown(root, run_as)
        shutil.chown(sockets, run_as)
    port = free_port()
    subprocess.run(
        _as_user(run_as, [str(bin_dir / "initdb"), "-D", str(data), "-U", user, "-A", "trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-k {sockets} -h 127.0.0.1 -p {port} -c fsync=off -c full_page_writes=off"
    try:
        subprocess.run(
            _as_user(
                run_as,
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(root / "log"),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            ),
            check=True,
            capture_output=True,
        )
        server = Postgres("127.0.0.1", port, user, "postgres")
        _wait_ready(server)
        yield server
    finally:
        subprocess.run(
            _as_user(run_as, [str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(server: Postgres, timeout_s: float = 30.0) -> None:
    import psycopg2

    deadline = time.monotonic() + timeout_s
    while True:
        try:
            psycopg2.connect(server.dsn, connect_timeout=2).close()
            return
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Postgres]:
    """One loopback Postgres for the test session."""
    with running_postgres() as server:
        yield server


_databases = iter(range(1, 10_000))


@pytest.fixture
def postgres(postgres_server: Postgres) -> Postgres:
    """A fresh database on the session's server, for one test."""
    return postgres_server.create_database(f"lake_{os.getpid()}_{next(_databases)}")
