"""The catalog: opening it (an embedded DuckDB file, or DuckLake) for readers, and its one writer.

Two backends, one set of SQL (no keys, sequences or ON CONFLICT: sql/schema/001_tables.sql):

- Embedded (the default, no services): a DuckDB file in the home. DuckDB lets a file be open either
  by one read-write process or by read-only ones, so the writer works on a private file
  (`.writer/catalog.duckdb`) under an exclusive file lock and, after each successful write,
  checkpoints it and publishes a copy at `catalog.duckdb` with an atomic rename. Readers keep the
  snapshot they opened; the next connection sees the new one.
- DuckLake (`settings.catalog_url`, for deployments): metadata in Postgres, data files in
  `settings.lake_data_url` (S3 or a folder). Writers anywhere take a Postgres advisory lock, so one
  writes at a time; readers anywhere attach read-only, pinned to the snapshot current when they
  connected (docs/deploying.md).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tubescribe.catalog.lake import EMPTY_LAKE, attach_lake, is_lake, sql_literal, tune_tables
from tubescribe.catalog.migrations import apply_schema, has_schema
from tubescribe.catalog.sql import CatalogError, CatalogLockedError, TransactionConflict
from tubescribe.errors import disk_full_as
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)
T = TypeVar("T")

WRITER_ROW_GROUP_SIZE = 8192  # rows; a multiple of DuckDB's vector size (2048)
# pg_advisory_lock's keys for what one tubescribe process at a time may change, wherever it runs (any
# 64-bit numbers all processes agree on): the catalog (its writer) and the channel registry.
LOCK_KEYS = {"catalog": 7_163_224_521_014, "channels": 7_163_224_521_015}
CONFLICT_RETRIES = 4
CONFLICT_BACKOFF_S = 0.5


def connect_read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection; the catalog must exist (run an ingest first)."""
    import duckdb

    con = duckdb.connect(":memory:")
    if is_lake(settings):
        try:
            attach_lake(con, settings, read_only=True)
            if not has_schema(con):
                raise CatalogError(EMPTY_LAKE)
        except BaseException:
            con.close()
            raise
        return con
    if not settings.catalog_path.exists():
        con.close()
        raise CatalogError(
            f"no catalog at {settings.catalog_path}; run `tubescribe ingest URL` or `tubescribe demo` first"
        )
    # DuckDB hands back its cached instance when the same file is already open in this process, which
    # would be the snapshot from before the last publish. Attaching to a fresh in-memory database
    # always opens the file as it is now.
    try:
        con.execute(f"ATTACH '{sql_literal(settings.catalog_path)}' AS catalog (READ_ONLY)")
        con.execute("USE catalog")
    except duckdb.Error as exc:
        con.close()
        if "lock" in str(exc).lower():
            raise CatalogLockedError(
                f"{settings.catalog_path} is held open for writing by another process ({_first_line(exc)}): "
                "close that connection; open the catalog read-only (duckdb -readonly, tubescribe query), "
                "tubescribe replaces the file after every load"
            ) from None
        raise CatalogError(f"could not open {settings.catalog_path} read-only: {exc}") from None
    return con


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def catalog_exists(settings: Settings) -> bool:
    """Whether a catalog has been written yet (the embedded file, or a lake with its schema)."""
    if not is_lake(settings):
        return settings.catalog_path.exists()
    try:
        connect_read_only(settings).close()
    except CatalogError:
        return False
    return True


# -- the writer ------------------------------------------------------------------------------------
@contextmanager
def writer(settings: Settings, lock_timeout_s: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single catalog writer: an exclusive lock, a connection with the migrations applied, then close."""
    opened = _lake_writer(settings) if is_lake(settings) else _embedded_writer(settings)  # opens once locked
    with exclusive(settings, "catalog", lock_timeout_s), opened as con:
        yield con


@contextmanager
def _file_lock(path: Path, what: str, lock_timeout_s: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        deadline, waited = time.monotonic() + lock_timeout_s, 0
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                waited = _waiting(what, waited)
                if time.monotonic() > deadline:
                    raise CatalogError(
                        f"another tubescribe process held the {what} lock for {lock_timeout_s:g} s"
                    ) from None
                time.sleep(0.2)
        yield


@contextmanager
def _embedded_writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    path = settings.writer_catalog_path
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() and settings.catalog_path.exists():
        shutil.copyfile(settings.catalog_path, path)  # a catalog published before the writer file was lost
    con = duckdb.connect(":memory:")
    try:
        # Small row groups: a checkpoint rewrites every row group that gained rows, and with
        # DuckDB's default (122,880 rows) `transcripts` and `summaries` are one row group until
        # 100k videos, so each load rewrote all their texts (2.6 s at 100k; BENCHMARKS.md).
        con.execute(f"ATTACH '{sql_literal(path)}' AS catalog (ROW_GROUP_SIZE {WRITER_ROW_GROUP_SIZE})")
        con.execute("USE catalog")
    except duckdb.Error as exc:
        con.close()
        raise CatalogError(f"could not open {path} for writing: {exc}") from None
    try:
        with disk_full_as(path.parent, "the catalog"):
            apply_schema(con)
            yield con
            con.execute("CHECKPOINT catalog")
            publish(path, settings.catalog_path)
    finally:
        con.close()


@contextmanager
def _lake_writer(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    con = duckdb.connect(":memory:")
    try:
        attach_lake(con, settings, read_only=False)
        if apply_schema(con):
            tune_tables(con)  # new tables, or new options for old ones, come with a migration
        yield con
    finally:
        con.close()


@contextmanager
def exclusive(settings: Settings, what: str, lock_timeout_s: float = 600.0) -> Iterator[None]:
    """Hold the lock on `what` (a key of LOCK_KEYS) for this process, waiting up to `lock_timeout_s`.

    With the catalog's metadata in Postgres the lock holds across machines: a Postgres advisory lock,
    a session lock on its own small libpq connection rather than through DuckDB's postgres scanner
    (the scanner pools connections, so lock and unlock could land on different sessions), held
    exactly as long as that connection is open, and dropped by Postgres if this process dies.
    Otherwise (the embedded file, or lake metadata in a local file) a file lock in $TUBESCRIBE_HOME.
    """
    key = LOCK_KEYS[what]
    url = settings.catalog_url or ""
    if not url.startswith("postgres:"):
        with _file_lock(settings.home / f"{what}.lock", what, lock_timeout_s):
            yield
        return
    import psycopg2

    try:
        pg = psycopg2.connect(url.removeprefix("postgres:"), connect_timeout=30)
    except psycopg2.Error as exc:
        raise CatalogError(f"could not reach the catalog's Postgres: {str(exc).splitlines()[0]}") from None
    try:
        pg.autocommit = True
        deadline, waited = time.monotonic() + lock_timeout_s, 0
        with pg.cursor() as cur:
            while True:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))
                row = cur.fetchone()
                if row is not None and row[0]:
                    break
                waited = _waiting(what, waited)
                if time.monotonic() > deadline:
                    raise CatalogError(f"another tubescribe process held the {what} lock for {lock_timeout_s:g} s")
                time.sleep(0.2)
        yield
    finally:
        pg.close()  # ends the session, which releases the lock


def _waiting(what: str, waited: int) -> int:
    # Said on the first wait, as apt and dpkg say it: a silent wait looks like a hang.
    if not waited:
        log.warning("waiting for another tubescribe process to release the %s lock", what)
    return waited + 1


def retry_conflicts(write: Callable[[], T], attempts: int = CONFLICT_RETRIES) -> T:
    """Call `write` (a whole transaction), again with backoff when DuckLake reports a transaction conflict."""
    for attempt in range(1, attempts + 1):
        try:
            return write()
        except TransactionConflict:
            if attempt == attempts:
                raise
            log.warning("catalog transaction conflict; retrying (%d of %d)", attempt, attempts - 1)
            time.sleep(CONFLICT_BACKOFF_S * 2 ** (attempt - 1))
    raise AssertionError("unreachable")


def publish(source: Path, target: Path) -> None:
    """Copy a checkpointed database to where readers open it, replacing the old copy atomically."""
    tmp = target.with_name(f".{target.name}.publishing")
    with open(source, "rb") as src, open(tmp, "wb") as dst:
        _copy(src.fileno(), dst.fileno(), os.fstat(src.fileno()).st_size)
        os.fsync(dst.fileno())
    os.replace(tmp, target)


def _copy(src: int, dst: int, size: int) -> None:
    # copy_file_range copies inside the kernel, and on file systems with shared extents (XFS, btrfs)
    # clones instead of copying, which makes publishing a large catalog nearly free there.
    done = 0
    try:
        while done < size:
            copied = os.copy_file_range(src, dst, size - done)
            if copied == 0:
                break
            done += copied
    except OSError:  # not supported between these files: copy through user space
        os.lseek(src, done, os.SEEK_SET)
        os.lseek(dst, done, os.SEEK_SET)
        while chunk := os.read(src, 1 << 20):
            os.write(dst, chunk)
