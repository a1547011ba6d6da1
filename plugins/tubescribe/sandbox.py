"""The sandbox `tubescribe query` and `tubescribe search` run in: a read-only catalog, no files, limits.

The guard is DuckDB's own configuration, not a filter of ours: the catalog is opened read-only,
external access (files, URLs, COPY, ATTACH, INSTALL/LOAD) is switched off, extensions are never
auto-installed or auto-loaded, and the configuration is locked so SQL cannot switch any of it
back. A query runs under a memory limit and a wall-clock limit (a timer calls `interrupt()`).

A second, cheaper layer uses DuckDB's own parser to refuse statement types that are harmless here
but are not questions (SET, temp tables, CHECKPOINT), so every refusal reads the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tubescribe.catalog import CatalogError, connect_read_only, run_sql
from tubescribe.extensions import ExtensionError, load_fts
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

Rows = tuple[list[str], list[tuple[Any, ...]]]
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_LIMIT = "1GB"

# Statement types a question may use (DuckDB parses SHOW, DESCRIBE, SUMMARIZE and PRAGMA show_* as SELECT).
ALLOWED = frozenset({"SELECT", "EXPLAIN", "CALL", "PRAGMA"})
READ_ONLY = (
    "the catalog is read-only here: `tubescribe query` answers questions (SELECT, WITH, SHOW, DESCRIBE, "
    "EXPLAIN); the catalog is written only by `tubescribe ingest`"
)
NO_FILES = (
    "`tubescribe query` cannot read or write files or URLs (COPY, EXPORT, read_csv, read_parquet, glob, ...); "
    "use `tubescribe export` to write the catalog to files"
)
NO_EXTENSIONS = "`tubescribe query` cannot install or load extensions; full-text search is already loaded (fts)"
NO_SETTINGS = (
    "`tubescribe query` cannot change settings (SET, RESET, PRAGMA x=y, USE); "
    "its limits are the --timeout and --memory-limit options"
)
NO_ATTACH = "`tubescribe query` cannot attach or detach other databases; it reads the catalog only"
BY_TYPE = {
    "SET": NO_SETTINGS,
    "VARIABLE_SET": NO_SETTINGS,
    "COPY": NO_FILES,
    "EXPORT": NO_FILES,
    "COPY_DATABASE": NO_FILES,
    "LOAD": NO_EXTENSIONS,
    "EXTENSION": NO_EXTENSIONS,
    "ATTACH": NO_ATTACH,
    "DETACH": NO_ATTACH,
}


class SandboxError(RuntimeError):
    """SQL was refused or failed inside the sandbox; the message says why and what to do instead."""


@contextmanager
def sandboxed(settings: Settings, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only, file-less, locked-down connection to the catalog, with fts loaded."""
    import duckdb

    try:
        con = connect_read_only(settings)
    except CatalogError as exc:
        raise SandboxError(str(exc)) from None
    try:
        try:
            # Order matters: fts must be loaded while loading is still allowed, and the lock comes last.
            load_fts(con)
            con.execute("SET enable_external_access = false")
            con.execute("SET memory_limit = $limit", {"limit": memory_limit})
            con.execute("SET lock_configuration = true")
        except ExtensionError as exc:
            raise SandboxError(str(exc)) from None
        except duckdb.Error as exc:
            raise SandboxError(f"--memory-limit {memory_limit!r}: {_first_line(exc)} (use a size like 2GB)") from None
        yield con
    finally:
        con.close()


def check_statements(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but questions, using DuckDB's own parser to tell statements apart."""
    import duckdb

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise SandboxError(_first_line(exc)) from None
    if not statements:
        raise SandboxError("no SQL to run; give a SELECT as an argument, with --file, or on stdin")
    for statement in statements:
        kind = statement.type.name
        if kind == "CREATE" and not statement.query.strip():
            # DuckDB expands a PIVOT without an IN list into a hidden CREATE TYPE, which read-only forbids.
            raise SandboxError("PIVOT needs its values listed here: PIVOT t ON col IN ('a', 'b') USING count(*)")
        if kind not in ALLOWED:
            raise SandboxError(f"{kind} refused: {BY_TYPE.get(kind, READ_ONLY)}")


def execute(
    con: duckdb.DuckDBPyConnection, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run user SQL (checked first) under the time limit; return column names and rows."""
    check_statements(con, sql)

    def run() -> tuple[list[str], list[tuple[Any, ...]]]:
        result = con.execute(sql)
        if result.description is None:
            return [], []
        return [d[0] for d in result.description], result.fetchall()

    return limited(con, run, timeout_s)


def execute_named(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one of our own `sql/` files, with bound parameters, under the time limit."""

    def run() -> tuple[list[str], list[tuple[Any, ...]]]:
        rows = run_sql(con, name, params)
        return [d[0] for d in con.description or []], rows

    return limited(con, run, timeout_s)


def limited(con: duckdb.DuckDBPyConnection, run: Callable[[], Rows], timeout_s: float) -> Rows:
    """Call `run()` with a timer that interrupts DuckDB after `timeout_s`; translate DuckDB's refusals."""
    import duckdb

    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        return run()
    except duckdb.InterruptException:
        raise SandboxError(f"stopped after {timeout_s:g} s; narrow the query or raise --timeout") from None
    except duckdb.OutOfMemoryException:
        raise SandboxError("the query needed more memory than --memory-limit allows; narrow it or raise it") from None
    except duckdb.Error as exc:
        raise SandboxError(explain(exc)) from None
    finally:
        timer.cancel()


def explain(exc: Exception) -> str:
    """Turn DuckDB's refusal into a sentence that says what to do instead."""
    text = _first_line(exc)
    if "read-only mode" in text:
        return f"{READ_ONLY} ({text})"
    if "extension" in text.lower():
        return f"{NO_EXTENSIONS} ({text})"
    if "file system operations are disabled" in text:
        return f"{NO_FILES} ({text})"
    if "configuration has been locked" in text:
        return f"{NO_SETTINGS} ({text})"
    return text


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
