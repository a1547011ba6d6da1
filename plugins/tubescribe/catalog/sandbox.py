"""The sandbox `tubescribe query` and `tubescribe search` run in: a read-only catalog, no files, limits.

The guard is DuckDB's own configuration, not a filter of ours: the catalog is opened read-only,
external access (files, URLs, COPY, ATTACH, INSTALL/LOAD) is switched off, extensions are never
auto-installed or auto-loaded, and the configuration is locked so SQL cannot switch any of it
back. A query runs under a memory limit and a wall-clock limit (a timer calls `interrupt()`).

A second layer uses DuckDB's own parser: only questions pass (SELECT, and EXPLAIN of one), and no
table function that acts rather than answers (logging, profiling, checkpoints, `query()` running a
string as SQL). It is needed, not cosmetic: the catalog is attached to a writable in-memory database,
so temp tables would work, and `enable_logging` to a file aborts the whole process on its next
statement (an uncaught PermissionException inside DuckDB 1.5). `check_filter` applies the same
parser to a `--where` filter: exactly one expression, nothing after it. Both layers stay in this one
module (about 310 lines): a reader of the guard should see all of it in one place.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from tubescribe.catalog.connection import connect_read_only
from tubescribe.catalog.extensions import ExtensionError, load_fts
from tubescribe.catalog.sql import CatalogError, run_sql
from tubescribe.errors import TubescribeError
from tubescribe.settings import Settings

if TYPE_CHECKING:
    import duckdb

Rows = tuple[list[str], list[tuple[Any, ...]]]
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_MEMORY_LIMIT = "1GB"

# Statement types a question may use (DuckDB parses SHOW, DESCRIBE, SUMMARIZE and PRAGMA show_* as SELECT);
# an EXPLAIN is checked again for the statement it explains (EXPLAIN ANALYZE runs it).
ALLOWED = frozenset({"SELECT", "EXPLAIN"})
_EXPLAIN = re.compile(r"^\s*EXPLAIN\b\s*(\([^)]*\))?\s*(ANALY[SZ]E\b)?", re.IGNORECASE)
# Table functions that change the session or the database, or run a string as SQL past this check.
ACTING_FUNCTIONS = frozenset({
    "checkpoint", "force_checkpoint", "enable_logging", "disable_logging", "truncate_duckdb_logs",
    "enable_profiling", "disable_profiling", "query", "json_execute_serialized_sql",
    "arrow_scan", "arrow_scan_dumb", "pandas_scan", "python_map_function",
})  # fmt: skip
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
NO_ACTIONS = (
    "`tubescribe query` runs questions only: no CALL, CHECKPOINT, PRAGMA, logging or profiling; "
    "write a SELECT (table functions such as pragma_table_info('videos') work)"
)
BY_TYPE = {
    "CALL": NO_ACTIONS,
    "PRAGMA": NO_ACTIONS,
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


class SandboxError(TubescribeError):
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
        _check_statement(con, statement.type.name, statement.query)


def _check_statement(con: duckdb.DuckDBPyConnection, kind: str, query: str) -> None:
    import duckdb

    if kind == "CREATE" and not query.strip():
        # DuckDB expands a PIVOT without an IN list into a hidden CREATE TYPE, which read-only forbids.
        raise SandboxError("PIVOT needs its values listed here: PIVOT t ON col IN ('a', 'b') USING count(*)")
    if kind not in ALLOWED:
        raise SandboxError(f"{kind} refused: {BY_TYPE.get(kind, READ_ONLY)}")
    if kind == "EXPLAIN":
        explained = _EXPLAIN.match(query)
        if explained is None:
            raise SandboxError(f"EXPLAIN refused: write it as EXPLAIN [ANALYZE] SELECT ... ({READ_ONLY})")
        try:
            inner = con.extract_statements(query[explained.end() :])
        except duckdb.Error as exc:
            raise SandboxError(_first_line(exc)) from None
        if len(inner) != 1:
            raise SandboxError(f"EXPLAIN refused: it explains one SELECT ({READ_ONLY})")
        _check_statement(con, inner[0].type.name, inner[0].query)
        return
    acting = sorted(_functions(con, query) & ACTING_FUNCTIONS)
    if acting:
        raise SandboxError(f"{acting[0]}() refused: {NO_ACTIONS}")


def _functions(con: duckdb.DuckDBPyConnection, query: str) -> set[str]:
    """Every function a SELECT names, from DuckDB's own parse tree of it."""
    (tree,) = con.execute("SELECT json_serialize_sql($q)", {"q": query}).fetchone() or ("{}",)
    parsed = json.loads(tree)
    if parsed.get("error"):
        raise SandboxError(f"could not check this statement: {parsed.get('error_message', 'parse error')}")
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            name = node.get("function_name")
            if isinstance(name, str):
                names.add(name.lower())
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(parsed)
    return names


def check_filter(con: duckdb.DuckDBPyConnection, where: str) -> str:
    """A `--where` filter as DuckDB's parser reads it: exactly one expression, returned as DuckDB writes it.

    Anything else (a second statement, a `)` that closes the WHERE early, a UNION, a comment that eats
    the rest of the query) is refused, so the filter can be composed into a query as text.
    """
    import duckdb

    if not where.strip():
        raise SandboxError("--where is empty; give a filter such as \"channel = 'Fireship'\"")
    try:
        expression = str(duckdb.SQLExpression(where))
    except (duckdb.Error, ValueError, RuntimeError) as exc:
        raise SandboxError(f"--where must be one SQL expression over video_overview: {_first_line(exc)}") from None
    # DuckDB's own rendering has no comments and balanced brackets; check it is one SELECT's WHERE.
    wrapped = f"SELECT video_id FROM video_overview WHERE ({expression})"
    try:
        statements = con.extract_statements(wrapped)
    except duckdb.Error as exc:
        raise SandboxError(f"--where must be one SQL expression: {_first_line(exc)}") from None
    if len(statements) != 1 or statements[0].type.name != "SELECT":
        raise SandboxError("--where must be one SQL expression over video_overview")
    _check_statement(con, "SELECT", wrapped)
    return expression


def valid_filter(where: str) -> str:
    """`check_filter` on a throwaway connection: for callers (the CLI) that have no sandbox open."""
    import duckdb

    with duckdb.connect(":memory:") as con:
        return check_filter(con, where)


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


@contextmanager
def streaming(
    con: duckdb.DuckDBPyConnection, sql: str, timeout_s: float = DEFAULT_TIMEOUT_S, chunk_rows: int = 2048
) -> Iterator[tuple[list[str], list[str], Iterator[Sequence[tuple[Any, ...]]]]]:
    """Run user SQL (checked first); yield (columns, type names, batches of rows), fetched as they are read.

    The time limit covers the reading too, and DuckDB's errors while reading become SandboxErrors.
    """
    import duckdb

    check_statements(con, sql)

    def batches(result: duckdb.DuckDBPyConnection) -> Iterator[Sequence[tuple[Any, ...]]]:
        while rows := result.fetchmany(chunk_rows):
            yield rows

    timer = threading.Timer(timeout_s, con.interrupt)
    timer.daemon = True
    timer.start()
    try:
        result = con.execute(sql)
        if result.description is None:
            yield [], [], iter(())
        else:
            columns = [d[0] for d in result.description]
            types = [str(d[1]) for d in result.description]
            yield columns, types, batches(result)
    except duckdb.Error as exc:
        raise SandboxError(_refusal(exc, timeout_s)) from None
    finally:
        timer.cancel()


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
    except duckdb.Error as exc:
        raise SandboxError(_refusal(exc, timeout_s)) from None
    finally:
        timer.cancel()


def _refusal(exc: Exception, timeout_s: float) -> str:
    import duckdb

    if isinstance(exc, duckdb.InterruptException):
        return f"stopped after {timeout_s:g} s; narrow the query or raise --timeout"
    if isinstance(exc, duckdb.OutOfMemoryException):
        return "the query needed more memory than --memory-limit allows; narrow it or raise it"
    return explain(exc)


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
