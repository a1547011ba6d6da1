"""The DuckDB catalog: opening it, applying the schema, and running the named SQL files in `sql/`.

Only one process writes at a time: writers take an exclusive file lock beside the database, which
is what makes the catalog safe under the scheduler's parallel workers and a CLI run at once.

DuckDB lets a file be open either by one read-write process or by read-only ones, never both, so an
analyst holding `catalog.duckdb` open would block every load. The writer therefore works on a
private file (`.writer/catalog.duckdb`) and, after each successful write, checkpoints it and
publishes a copy at `catalog.duckdb` with an atomic rename. Readers keep the snapshot they opened;
the next connection sees the new one.
"""

from __future__ import annotations

import fcntl
import functools
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tubescribe.extensions import load_fts
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")
WRITER_ROW_GROUP_SIZE = 8192  # rows; a multiple of DuckDB's vector size (2048)


class CatalogError(RuntimeError):
    """The catalog could not be opened or written."""


def sql_dir() -> Path:
    """The repository's `sql/` folder (override with TUBESCRIBE_SQL_DIR)."""
    override = os.environ.get("TUBESCRIBE_SQL_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[2] / "sql"


@functools.cache
def _read(name: str) -> tuple[str, ...]:
    path = sql_dir() / f"{name}.sql"
    text = path.read_text(encoding="utf-8")
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


def schema_files() -> list[str]:
    """Names of the schema files, in the order they are applied."""
    return sorted(f"schema/{p.stem}" for p in (sql_dir() / "schema").glob("*.sql"))


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create or update every table, view and macro (idempotent)."""
    load_fts(con)  # the search macros call fts's `stem`, and DuckDB binds a macro when it is created
    for name in schema_files():
        run_sql(con, name)


def connect_read_only(settings: Settings) -> duckdb.DuckDBPyConnection:
    """A read-only connection; the catalog must exist (run an ingest first)."""
    import duckdb

    if not settings.catalog_path.exists():
        raise CatalogError(
            f"no catalog at {settings.catalog_path}; run `tubescribe ingest URL` or `tubescribe demo` first"
        )
    # DuckDB hands back its cached instance when the same file is already open in this process, which
    # would be the snapshot from before the last publish. Attaching to a fresh in-memory database
    # always opens the file as it is now.
    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{_literal(settings.catalog_path)}' AS catalog (READ_ONLY)")
        con.execute("USE catalog")
    except duckdb.Error as exc:
        con.close()
        raise CatalogError(f"could not open {settings.catalog_path} read-only: {exc}") from None
    return con


def _literal(path: Path) -> str:
    # ATTACH takes no bound parameters; the path is ours (the home), quotes doubled all the same.
    return str(path).replace("'", "''")


@contextmanager
def writer(settings: Settings, lock_timeout_s: float = 600.0) -> Iterator[duckdb.DuckDBPyConnection]:
    """The single catalog writer: an exclusive lock, a connection with the schema applied, then close."""
    import duckdb

    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / "catalog.lock", "w") as lock:
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
            apply_schema(con)
            yield con
            con.execute("CHECKPOINT catalog")
            publish(path, settings.catalog_path)
        finally:
            con.close()


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
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise CatalogError(f"catalog write rolled back: {exc}") from exc
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
