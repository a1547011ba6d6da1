"""The catalog: opening it (an embedded DuckDB file, or DuckLake), migrating it, and running `sql/` files.

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

import contextlib
import fcntl
import functools
import hashlib
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from tubescribe.catalog.extensions import load_fts, load_lake
from tubescribe.errors import Kind, TubescribeError, disk_full_as
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

log = logging.getLogger(__name__)
T = TypeVar("T")

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
WRITER_ROW_GROUP_SIZE = 8192  # rows; a multiple of DuckDB's vector size (2048)
# Migrations up to this version were applied by re-running every schema file on each open, before
# schema_migrations existed; they stay idempotent so that such catalogs upgrade by applying them once.
BASELINE_VERSION = 100
# A statement that only (re)defines a view or macro: its migration may be edited and is re-applied then.
_REDEFINES = re.compile(r"^CREATE\s+OR\s+REPLACE\s+(VIEW|MACRO|FUNCTION)\b", re.I)
# pg_advisory_lock's key for "the tubescribe catalog writer" (any 64-bit number all writers agree on).
WRITER_LOCK_KEY = 7_163_224_521_014
CONFLICT_RETRIES = 4
CONFLICT_BACKOFF_S = 0.5


_EMPTY_LAKE = "the DuckLake catalog is empty; run `tubescribe ingest URL` or `tubescribe demo` first"


class CatalogError(TubescribeError):
    """The catalog could not be opened or written; worth another try (a lock, a busy lake) unless a subclass says."""

    kind = Kind.TRANSIENT


class CatalogLockedError(CatalogError):
    """Another process holds the published catalog file open for writing, which DuckDB lets lock out every reader."""

    kind = Kind.PERMANENT


class TransactionConflict(CatalogError):
    """Another DuckLake writer committed a conflicting change first; the write can be retried."""


def sql_dir() -> Path:
    """The repository's `sql/` folder (override with TUBESCRIBE_SQL_DIR)."""
    override = os.environ.get("TUBESCRIBE_SQL_DIR")
    return Path(override) if override else Path(str(resources.files("tubescribe.catalog") / "sql"))


@functools.cache
def _read(name: str) -> tuple[str, ...]:
    return _statements((sql_dir() / f"{name}.sql").read_text(encoding="utf-8"))


def _statements(text: str) -> tuple[str, ...]:
    # Our SQL files never hold ';' inside literals, so a statement ends at a ';' closing a line.
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return tuple(s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip())


def run_sql(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run every statement of `sql/<name>.sql` with bound named parameters; return the last result's rows."""
    rows: list[tuple[Any, ...]] = []
    for statement in _read(name):
        wanted = set(_PARAM.findall(statement))
        bound = {key: value for key, value in (params or {}).items() if key in wanted}
        missing = wanted - bound.keys()
        if missing:
            raise CatalogError(f"sql/{name}.sql needs parameters: {', '.join(sorted(missing))}")
        result = con.execute(statement, bound) if bound else con.execute(statement)
        rows = result.fetchall() if result.description else []
    return rows


# -- migrations ------------------------------------------------------------------------------------
def schema_files() -> list[str]:
    """Names of the migration files (`sql/schema/<version>_<name>.sql`), in the order they are applied."""
    return sorted(f"schema/{p.stem}" for p in (sql_dir() / "schema").glob("*.sql"))


def _version(name: str) -> int:
    return int(name.removeprefix("schema/").split("_", 1)[0])


def _checksum(name: str) -> str:
    return hashlib.sha256("\n".join(_read(name)).encode()).hexdigest()[:16]


def _redefinitions_only(name: str) -> bool:
    return all(_REDEFINES.match(statement) for statement in _read(name))


def apply_schema(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply the migrations this catalog has not had yet, in order, and record them; return their names.

    Each migration runs once. One already applied whose file changed is applied again only if it
    just (re)defines views and macros; any other change must come as a new migration.
    """
    load_fts(con)  # the search macros call fts's `stem`, and DuckDB binds a macro when it is created
    exists = _has_schema(con)
    applied = dict(run_sql(con, "migrations/applied")) if exists else {}
    due = []
    redefining = False
    for name in schema_files():
        recorded = applied.get(_version(name))
        if recorded is None:
            due.append(name)
        elif recorded != _checksum(name) or (redefining and _redefinitions_only(name)):
            if not _redefinitions_only(name):
                raise CatalogError(
                    f"sql/{name}.sql changed after this catalog applied it; put the change in a new migration"
                )
            # Later migrations may redefine the same views (100 redefines 002's video_tags), so they
            # are applied again too, and the last definition stays the one in force.
            redefining = True
            due.append(name)
    if not due:
        return []
    with transaction(con):
        if not exists:
            run_sql(con, "migrations/create")
        for name in due:
            run_sql(con, name)
            params = {"version": _version(name), "name": name.removeprefix("schema/"), "checksum": _checksum(name)}
            run_sql(con, "migrations/record", {**params, "now": datetime.now(UTC)})
    log.info("catalog migrated: %s", ", ".join(due))
    return due


# -- backends --------------------------------------------------------------------------------------
def is_lake(settings: Settings) -> bool:
    """Whether the catalog is DuckLake (`TUBESCRIBE_CATALOG_URL` set) rather than the embedded file."""
    return bool(settings.catalog_url)


def _literal(value: object) -> str:
    # ATTACH and CREATE SECRET take no bound parameters; values are quoted as literals, quotes doubled.
    return str(value).replace("'", "''")


def lake_data_path(settings: Settings) -> str:
    """Where the lake's data files live, ending in '/' (DuckLake joins paths onto it)."""
    url = settings.lake_data_url or ""
    if "://" not in url:
        url = str(Path(url).expanduser().resolve())
    return url if url.endswith("/") else url + "/"


def _s3_secret(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    # The keys come from the environment at connect time and live only in this connection's memory:
    # a temporary secret, never persisted, never part of an error message.
    import duckdb

    key_id = os.environ.get("AWS_ACCESS_KEY_ID")
    secret = os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not (key_id and secret):
        # DuckDB's credential chain (instance roles, ~/.aws) lives in its `aws` extension, which is not bundled.
        raise CatalogError(
            f"the lake's data is in S3 ({lake_data_path(settings)}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    options = ["TYPE s3", "URL_STYLE 'path'", f"KEY_ID '{_literal(key_id)}'", f"SECRET '{_literal(secret)}'"]
    if token := os.environ.get("AWS_SESSION_TOKEN"):
        options.append(f"SESSION_TOKEN '{_literal(token)}'")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    options.append(f"REGION '{_literal(region)}'")
    if settings.s3_endpoint_url:
        endpoint = urlsplit(settings.s3_endpoint_url)
        options.append(f"ENDPOINT '{_literal(endpoint.netloc or endpoint.path)}'")
        options.append(f"USE_SSL {'true' if endpoint.scheme == 'https' else 'false'}")
    try:
        con.execute(f"CREATE OR REPLACE TEMPORARY SECRET tubescribe_lake ({', '.join(options)})")
    except duckdb.Error:
        raise CatalogError(
            "could not set up S3 access for the lake; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and "
            "TUBESCRIBE_S3_ENDPOINT_URL"
        ) from None


def _attach_lake(con: duckdb.DuckDBPyConnection, settings: Settings, *, read_only: bool) -> None:
    import duckdb

    load_lake(con)
    data = lake_data_path(settings)
    if data.startswith("s3://"):
        _s3_secret(con, settings)
    source = f"ducklake:{_literal(settings.catalog_url)}"
    try:
        if read_only:
            # Pinned to the snapshot current now, so every query on this connection sees the same
            # catalog however many loads commit meanwhile (as a reader of the embedded file does).
            con.execute(f"ATTACH '{source}' AS lake_now (READ_ONLY)")
            [(snapshot,)] = con.execute("SELECT id FROM lake_now.current_snapshot()").fetchall()
            con.execute("DETACH lake_now")
            con.execute(f"ATTACH '{source}' AS catalog (READ_ONLY, SNAPSHOT_VERSION {int(snapshot)})")
            # Readers may then lock external access off (sandbox.py): the lake's files stay readable.
            con.execute("SET allowed_directories = $dirs", {"dirs": [data]})
        else:
            con.execute(f"ATTACH '{source}' AS catalog (DATA_PATH '{_literal(data)}')")
        con.execute("USE catalog")
    except duckdb.Error as exc:
        message = str(exc).splitlines()[0]
        if read_only and "creating a new DuckLake is explicitly disabled" in message:
            raise CatalogError(_EMPTY_LAKE) from None
        # libpq connection strings may hold a password (PGPASSWORD is the way to pass it; this is in case).
        message = re.sub(r"password=\S+", "password=***", message)
        raise CatalogError(f"could not open the DuckLake catalog: {message}") from None


def connect_read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection; the catalog must exist (run an ingest first)."""
    import duckdb

    con = duckdb.connect(":memory:")
    if is_lake(settings):
        try:
            _attach_lake(con, settings, read_only=True)
            if not _has_schema(con):
                raise CatalogError(_EMPTY_LAKE)
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
        con.execute(f"ATTACH '{_literal(settings.catalog_path)}' AS catalog (READ_ONLY)")
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


def _has_schema(con: duckdb.DuckDBPyConnection) -> bool:
    [(found,)] = con.execute(
        "SELECT count(*) > 0 FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND table_name = 'schema_migrations'"
    ).fetchall()
    return bool(found)


# -- the writer ------------------------------------------------------------------------------------
@contextmanager
def writer(settings: Settings, lock_timeout_s: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single catalog writer: an exclusive lock, a connection with the migrations applied, then close."""
    if is_lake(settings):
        with _lake_writer(settings, lock_timeout_s) as con:
            yield con
        return
    with _file_lock(settings.home / "catalog.lock", lock_timeout_s), _embedded_writer(settings) as con:
        yield con


@contextmanager
def _file_lock(path: Path, lock_timeout_s: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as lock:
        deadline = time.monotonic() + lock_timeout_s
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise CatalogError(
                        f"another tubescribe process held the catalog lock for {lock_timeout_s:g} s"
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
        con.execute(f"ATTACH '{_literal(path)}' AS catalog (ROW_GROUP_SIZE {WRITER_ROW_GROUP_SIZE})")
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
def _lake_writer(settings: Settings, lock_timeout_s: float) -> Iterator[duckdb.DuckDBPyConnection]:
    import duckdb

    with _writer_lock(settings, lock_timeout_s):
        con = duckdb.connect(":memory:")
        try:
            _attach_lake(con, settings, read_only=False)
            apply_schema(con)
            yield con
        finally:
            con.close()


@contextmanager
def _writer_lock(settings: Settings, lock_timeout_s: float) -> Iterator[None]:
    """One DuckLake writer at a time, wherever it runs: a Postgres advisory lock on the metadata database.

    A session lock on its own small libpq connection rather than through DuckDB's postgres scanner:
    the scanner pools connections, so lock and unlock could land on different sessions, while a
    connection of our own holds the lock exactly as long as it is open, and Postgres drops it if
    this process dies. Metadata in a local file (sqlite:, duckdb:) has a local file lock instead.
    """
    url = settings.catalog_url or ""
    if not url.startswith("postgres:"):
        with _file_lock(settings.home / "catalog.lock", lock_timeout_s):
            yield
        return
    import psycopg2

    try:
        pg = psycopg2.connect(url.removeprefix("postgres:"), connect_timeout=30)
    except psycopg2.Error as exc:
        raise CatalogError(f"could not reach the catalog's Postgres: {str(exc).splitlines()[0]}") from None
    try:
        pg.autocommit = True
        deadline = time.monotonic() + lock_timeout_s
        with pg.cursor() as cur:
            while True:
                cur.execute("SELECT pg_try_advisory_lock(%s)", (WRITER_LOCK_KEY,))
                row = cur.fetchone()
                if row is not None and row[0]:
                    break
                if time.monotonic() > deadline:
                    raise CatalogError(f"another tubescribe process held the catalog lock for {lock_timeout_s:g} s")
                time.sleep(0.2)
        yield
    finally:
        pg.close()  # ends the session, which releases the lock


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


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit if the block succeeds, roll back otherwise."""
    import duckdb

    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except duckdb.Error as exc:
        _rollback(con)
        kind = TransactionConflict if "transaction conflict" in str(exc).lower() else CatalogError
        raise kind(f"catalog write rolled back: {exc}") from exc
    except BaseException:
        _rollback(con)
        raise


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # a failed COMMIT has already ended the transaction
        con.execute("ROLLBACK")
